/**
 * The scheduler role's calendar work: up to CALENDAR_SYNC_CONCURRENCY `calendar.sync` jobs at
 * once, fetched as soon as there is room (and at once when this process requests a sync),
 * else every poll interval; and a minute-by-minute upkeep pass (daily full syncs, push
 * renewal, polling calendars without push). Expected failures are values: a dead grant
 * disconnects and completes the job; a transient failure fails it so pg-boss retries with
 * backoff.
 *
 * pg-boss's own `work()` sleeps a whole polling interval after each job even when more are
 * waiting, which caps a worker at one short sync per interval; this loop does not.
 */
import type PgBoss from 'pg-boss';
import type { Logger } from '../../lib/log.js';
import { parsePayload, QUEUES } from '../queues.js';
import type { CalendarService } from './service.js';

export class CalendarWorker {
  #running = new Map<string, Promise<void>>();
  #poll: NodeJS.Timeout | undefined;
  #upkeep: NodeJS.Timeout | undefined;
  #maintaining: Promise<unknown> | undefined;
  #fetching = false;
  #again = false;
  #stopping = false;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly boss: PgBoss,
    private readonly calendars: CalendarService,
    private readonly opts: { concurrency: number; log: Logger; pollIntervalMs?: number; maintainEveryMs?: number },
  ) {}

  async start(): Promise<void> {
    this.#unsubscribe = this.calendars.onSyncRequested(() => this.kick());
    this.#poll = setInterval(() => this.kick(), this.opts.pollIntervalMs ?? 1000);
    const every = this.opts.maintainEveryMs ?? 60_000;
    if (every > 0) {
      this.#upkeep = setInterval(() => {
        this.#maintaining ??= this.calendars
          .maintain()
          .catch((err) => this.opts.log.warn({ err }, 'calendar upkeep failed'))
          .finally(() => (this.#maintaining = undefined));
      }, every);
    }
    this.kick();
  }

  /** Fetches as many due sync jobs as there is room for. */
  kick(): void {
    if (this.#stopping) return;
    if (this.#fetching) {
      this.#again = true;
      return;
    }
    this.#fetching = true;
    void this.#fill()
      .catch((err) => this.opts.log.warn({ err }, 'fetching calendar sync jobs failed'))
      .finally(() => {
        this.#fetching = false;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #fill(): Promise<void> {
    const room = this.opts.concurrency - this.#running.size;
    if (room <= 0) return;
    const jobs = await this.boss.fetch<{ calendarId: string }>(QUEUES.calendarSync.name, { batchSize: room });
    for (const job of jobs ?? []) {
      const run = this.#run(job).finally(() => {
        this.#running.delete(job.id);
        this.kick();
      });
      this.#running.set(job.id, run);
    }
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
    this.#stopping = true;
    clearInterval(this.#poll);
    clearInterval(this.#upkeep);
    this.#unsubscribe?.();
    await Promise.allSettled([...this.#running.values()]);
    await this.#maintaining;
  }
}
