/**
 * The bot worker pool: takes due `bot.join` jobs while it has capacity (BOT_CONCURRENCY),
 * runs each through the BotLauncher, and completes or fails the job from the result. It
 * polls, and wakes at once when the API NOTIFYs that a bot is due now.
 */
import type PgBoss from 'pg-boss';
import { CHANNELS, type Notifications } from '../lib/db/notifications.js';
import type { Logger } from '../lib/log.js';
import type { BotLauncher } from '../bot/launcher.js';
import { parsePayload, QUEUES } from './queues.js';

export class BotWorkerPool {
  #running = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #fetching = false;
  #again = false;
  #stopping = false;
  #abort = new AbortController();
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly boss: PgBoss,
    private readonly launcher: BotLauncher,
    private readonly notifications: Notifications,
    private readonly opts: { concurrency: number; pollIntervalMs: number; log: Logger },
  ) {}

  start(): void {
    this.#unsubscribe = this.notifications.on(CHANNELS.botDue, () => this.kick());
    this.#timer = setInterval(() => this.kick(), this.opts.pollIntervalMs);
    this.kick();
  }

  get active(): number {
    return this.#running.size;
  }

  /** Fetches as many due jobs as there is room for. */
  kick(): void {
    if (this.#stopping) return;
    if (this.#fetching) {
      this.#again = true;
      return;
    }
    this.#fetching = true;
    void this.#fill()
      .catch((err) => this.opts.log.warn({ err }, 'fetching bot jobs failed'))
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
    const jobs = await this.boss.fetch<{ botId: string }>(QUEUES.botJoin.name, { batchSize: room });
    for (const job of jobs ?? []) {
      const run = this.#run(job).finally(() => {
        this.#running.delete(job.id);
        this.kick();
      });
      this.#running.set(job.id, run);
    }
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
    try {
      const result = await this.launcher.run(botId, this.#abort.signal);
      if (result.retry) await this.boss.fail(QUEUES.botJoin.name, job.id, { reason: result.reason });
      else await this.boss.complete(QUEUES.botJoin.name, job.id, { reason: result.reason });
    } catch (err) {
      log.error({ err, botId }, 'bot run threw');
      await this.boss.fail(QUEUES.botJoin.name, job.id, { error: (err as Error).message }).catch(() => undefined);
    }
  }

  /** Stops taking work, asks running bots to suspend, and waits for them (up to graceMs). */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    this.#abort.abort();
    const all = Promise.allSettled([...this.#running.values()]);
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs))]);
  }
}
