/**
 * Runs up to `concurrency` jobs of one pg-boss queue at once, fetching as soon as there is
 * room: when a job ends, when `kick()` is called (a NOTIFY, this process queued work), and
 * every `pollIntervalMs` otherwise. pg-boss's own `work()` sleeps a whole polling interval
 * after each batch even when more jobs wait, which would cap a worker at one short job per
 * interval; the bot workers, calendar syncs and webhook deliveries all use this pool instead.
 *
 * `handle` owns the job's outcome (complete, fail, or leave it for its expiry); a throw is
 * logged and the job failed, so pg-boss retries it.
 */
import type PgBoss from 'pg-boss';
import type { Logger } from '../lib/log.js';

export interface JobPoolOptions<T> {
  queue: string;
  concurrency: number;
  pollIntervalMs: number;
  log: Logger;
  handle(job: PgBoss.Job<T>): Promise<void>;
}

export class JobPool<T extends object> {
  #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #fetching = false;
  #again = false;
  #stopping = false;

  constructor(
    private readonly boss: PgBoss,
    private readonly opts: JobPoolOptions<T>,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.kick(), this.opts.pollIntervalMs);
    this.kick();
  }

  /** Jobs running now. */
  get active(): number {
    return this.#running.size;
  }

  /** Fetches as many due jobs as there is room for (at most one fetch at a time; a kick during one fetches again after it). */
  kick(): void {
    if (this.#stopping) return;
    if (this.#fetching) {
      this.#again = true;
      return;
    }
    this.#fetching = true;
    void this.#fill()
      .catch((err) => this.opts.log.warn({ err, queue: this.opts.queue }, 'fetching jobs failed'))
      .finally(() => {
        this.#fetching = false;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #fill(): Promise<void> {
    while (!this.#stopping) {
      const room = this.opts.concurrency - this.#running.size;
      if (room <= 0) return;
      const jobs = await this.boss.fetch<T>(this.opts.queue, { batchSize: room });
      if (!jobs?.length) return;
      for (const job of jobs) {
        const run: Promise<void> = this.#run(job).finally(() => {
          this.#running.delete(run);
          this.kick();
        });
        this.#running.add(run);
      }
    }
  }

  async #run(job: PgBoss.Job<T>): Promise<void> {
    try {
      await this.opts.handle(job);
    } catch (err) {
      this.opts.log.error({ err, queue: this.opts.queue, jobId: job.id }, 'job handler threw; pg-boss retries the job');
      await this.boss.fail(this.opts.queue, job.id, { error: (err as Error).message }).catch(() => undefined);
    }
  }

  /** Stops fetching and waits for the running jobs (at most `graceMs` when given). */
  async stop(graceMs?: number): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    const all = Promise.allSettled([...this.#running]);
    if (graceMs === undefined) await all;
    else await Promise.race([all, new Promise((r) => setTimeout(r, graceMs))]);
  }
}
