/**
 * The scheduler role's calendar work: CALENDAR_SYNC_CONCURRENCY pg-boss workers on
 * `calendar.sync`, and a minute-by-minute upkeep pass (daily full syncs, push renewal,
 * polling calendars without push). Expected failures are values: a dead grant disconnects
 * and completes the job; a transient failure throws so pg-boss retries with backoff.
 */
import type PgBoss from 'pg-boss';
import type { Logger } from '../../lib/log.js';
import { parsePayload, QUEUES } from '../queues.js';
import type { CalendarService } from './service.js';

export class CalendarWorker {
  #timer: NodeJS.Timeout | undefined;
  #maintaining: Promise<unknown> | undefined;
  #started = false;

  constructor(
    private readonly boss: PgBoss,
    private readonly calendars: CalendarService,
    private readonly opts: { concurrency: number; log: Logger; pollingIntervalSeconds?: number; maintainEveryMs?: number },
  ) {}

  async start(): Promise<void> {
    this.#started = true;
    const def = QUEUES.calendarSync;
    for (let i = 0; i < this.opts.concurrency; i++) {
      const id = await this.boss.work<{ calendarId: string }>(def.name, { batchSize: 1, pollingIntervalSeconds: this.opts.pollingIntervalSeconds ?? 1 }, async ([job]) => {
        if (!job) return;
        const { calendarId } = parsePayload(def, job.data);
        const outcome = await this.calendars.sync(calendarId);
        this.opts.log.debug({ calendarId, ...outcome }, 'calendar synced');
        return outcome;
      });
      this.calendars.localWorkers.add(id);
    }
    const every = this.opts.maintainEveryMs ?? 60_000;
    if (every > 0) {
      this.#timer = setInterval(() => {
        this.#maintaining ??= this.calendars
          .maintain()
          .catch((err) => this.opts.log.warn({ err }, 'calendar upkeep failed'))
          .finally(() => (this.#maintaining = undefined));
      }, every);
    }
  }

  /** Stops taking sync jobs (a running sync finishes) and the upkeep timer. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    clearInterval(this.#timer);
    this.calendars.localWorkers.clear();
    await this.boss.offWork(QUEUES.calendarSync.name).catch((err) => this.opts.log.warn({ err }, 'stopping calendar workers'));
    await this.#maintaining;
  }
}
