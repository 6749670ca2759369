/**
 * The bot worker pool: takes due `bot.join` jobs while it has capacity (BOT_CONCURRENCY),
 * runs each through the BotLauncher, and completes or fails the job from the result. It
 * polls, and wakes at once when the API NOTIFYs that a bot is due now.
 */
import type PgBoss from 'pg-boss';
import { CHANNELS, type Notifications } from '../lib/db/notifications.js';
import type { Logger } from '../lib/log.js';
import type { BotLauncher } from '../bot/launcher.js';
import { JobPool } from './job-pool.js';
import { parsePayload, QUEUES } from './queues.js';

export class BotWorkerPool {
  #abort = new AbortController();
  #unsubscribe: (() => void) | undefined;
  readonly #jobs: JobPool<{ botId: string }>;

  constructor(
    private readonly boss: PgBoss,
    private readonly launcher: BotLauncher,
    private readonly notifications: Notifications,
    private readonly opts: { concurrency: number; pollIntervalMs: number; log: Logger },
  ) {
    this.#jobs = new JobPool(boss, { queue: QUEUES.botJoin.name, concurrency: opts.concurrency, pollIntervalMs: opts.pollIntervalMs, log: opts.log, handle: (job) => this.#run(job) });
  }

  start(): void {
    this.#unsubscribe = this.notifications.on(CHANNELS.botDue, () => this.#jobs.kick());
    this.#jobs.start();
  }

  get active(): number {
    return this.#jobs.active;
  }

  async #run(job: PgBoss.Job<{ botId: string }>): Promise<void> {
    const log = this.opts.log.child({ jobId: job.id });
    let botId: string;
    try {
      botId = parsePayload(QUEUES.botJoin, job.data).botId;
    } catch (err) {
      log.error({ err }, 'bad bot.join payload');
      await this.boss.fail(QUEUES.botJoin.name, job.id, { error: 'invalid payload' }).catch(() => undefined);
      return;
    }
    const result = await this.launcher.run(botId, this.#abort.signal);
    if (result.retry) await this.boss.fail(QUEUES.botJoin.name, job.id, { reason: result.reason });
    else await this.boss.complete(QUEUES.botJoin.name, job.id, { reason: result.reason });
  }

  /** Stops taking work, asks running bots to suspend, and waits for them (up to graceMs). */
  async stop(graceMs: number): Promise<void> {
    this.#unsubscribe?.();
    const stopped = this.#jobs.stop(graceMs);
    this.#abort.abort();
    await stopped;
  }
}
