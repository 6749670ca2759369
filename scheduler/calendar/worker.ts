/**
 * The scheduler role's calendar work: up to CALENDAR_SYNC_CONCURRENCY `calendar.sync` jobs at
 * once, fetched as soon as there is room (and at once when this process requests a sync),
 * else every poll interval; and a minute-by-minute upkeep pass (daily full syncs, push
 * renewal, polling calendars without push). Expected failures are values: a dead grant
 * disconnects and completes the job; a transient failure fails it so pg-boss retries with
 * backoff.
 *
 * The jobs run in a JobPool (scheduler/job-pool.ts), not pg-boss's `work()`.
 */
import type PgBoss from 'pg-boss';
import type { Logger } from '../../lib/log.js';
import { JobPool } from '../job-pool.js';
import { parsePayload, QUEUES } from '../queues.js';
import type { CalendarService } from './service.js';

export class CalendarWorker {
  #upkeep: NodeJS.Timeout | undefined;
  #maintaining: Promise<unknown> | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #jobs: JobPool<{ calendarId: string }>;

  constructor(
    private readonly boss: PgBoss,
    private readonly calendars: CalendarService,
    private readonly opts: { concurrency: number; log: Logger; pollIntervalMs?: number; maintainEveryMs?: number },
  ) {
    this.#jobs = new JobPool(boss, {
      queue: QUEUES.calendarSync.name,
      concurrency: opts.concurrency,
      pollIntervalMs: opts.pollIntervalMs ?? 1000,
      log: opts.log,
      handle: (job) => this.#run(job),
    });
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.calendars.onSyncRequested(() => this.#jobs.kick());
    const every = this.opts.maintainEveryMs ?? 60_000;
    if (every > 0) {
      this.#upkeep = setInterval(() => {
        this.#maintaining ??= this.calendars
          .maintain()
          .catch((err) => this.opts.log.warn({ err }, 'calendar upkeep failed'))
          .finally(() => (this.#maintaining = undefined));
      }, every);
    }
    this.#jobs.start();
  }

  /** Fetches as many due sync jobs as there is room for. */
  kick(): void {
    this.#jobs.kick();
  }

  async #run(job: PgBoss.Job<{ calendarId: string }>): Promise<void> {
    const name = QUEUES.calendarSync.name;
    let calendarId: string;
    try {
      calendarId = parsePayload(QUEUES.calendarSync, job.data).calendarId;
    } catch {
      await this.boss.fail(name, job.id, { error: 'invalid payload' }).catch(() => undefined);
      return;
    }
    try {
      const outcome = await this.calendars.sync(calendarId);
      this.opts.log.debug({ calendarId, ...outcome }, 'calendar synced');
      await this.boss.complete(name, job.id, { ...outcome });
    } catch (err) {
      this.opts.log.warn({ calendarId, err: (err as Error).message }, 'calendar sync failed; pg-boss retries it');
      await this.boss.fail(name, job.id, { error: String((err as Error).message ?? err).slice(0, 1000) }).catch(() => undefined);
    }
  }

  /** Stops taking sync jobs; running syncs finish (their jobs complete or fail). */
  async stop(): Promise<void> {
    clearInterval(this.#upkeep);
    this.#unsubscribe?.();
    await this.#jobs.stop();
    await this.#maintaining;
  }
}
