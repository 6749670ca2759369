/**
 * The scheduler's watch over running bots. A bot in a live status whose heartbeat stopped
 * has lost its worker (crash, OOM, a killed pod): its job is failed so pg-boss retries it and
 * another worker rejoins the meeting; when retries are exhausted the bot ends fatal.
 */
import { and, eq, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm';
import type PgBoss from 'pg-boss';
import type { Db } from '../lib/db/index.js';
import { bots, botStatusEvents } from '../lib/db/schema.js';
import { emitBotEvent, statusData } from '../lib/events.js';
import type { Logger } from '../lib/log.js';
import { QUEUES } from './queues.js';

const LIVE = ['joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording'];

export class BotSweeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly boss: PgBoss,
    private readonly log: Logger,
    private readonly opts: { intervalMs: number; staleAfterMs: number },
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.sweep()
        .then(() => undefined)
        .catch((err) => this.log.warn({ err }, 'bot sweep failed'))
        .finally(() => (this.#running = undefined));
    }, this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One pass; returns the ids of bots it found abandoned. */
  async sweep(): Promise<string[]> {
    const staleBefore = new Date(Date.now() - this.opts.staleAfterMs);
    const stale = await this.db
      .select({ id: bots.id, jobId: bots.jobId, status: bots.status })
      .from(bots)
      .where(
        and(
          inArray(bots.status, LIVE),
          isNotNull(bots.jobId),
          or(lt(bots.heartbeatAt, staleBefore), and(isNull(bots.heartbeatAt), lt(bots.statusUpdatedAt, staleBefore))),
        ),
      );
    for (const bot of stale) {
      const job = await this.boss.getJobById(QUEUES.botJoin.name, bot.jobId!);
      if (job?.state === 'active') {
        this.log.warn({ botId: bot.id, jobId: bot.jobId }, 'bot lost its worker; failing its job so it is retried');
        await this.boss.fail(QUEUES.botJoin.name, bot.jobId!, { reason: 'heartbeat lost' });
        // Give the retry time to start before this bot counts as stale again.
        await this.db.update(bots).set({ heartbeatAt: new Date() }).where(eq(bots.id, bot.id));
      } else if (!job || job.state === 'failed' || job.state === 'completed' || job.state === 'cancelled') {
        await this.db.transaction(async (tx) => {
          const updated = await tx
            .update(bots)
            .set({ status: 'fatal', subCode: 'browser_crashed', statusMessage: 'the worker running this bot stopped and every retry is used up', statusUpdatedAt: new Date(), endedAt: new Date() })
            .where(and(eq(bots.id, bot.id), inArray(bots.status, LIVE)))
            .returning({ id: bots.id, statusMessage: bots.statusMessage, statusUpdatedAt: bots.statusUpdatedAt });
          if (updated.length) {
            await tx.insert(botStatusEvents).values({ botId: bot.id, code: 'fatal', subCode: 'browser_crashed', message: 'worker lost; retries exhausted' });
            const u = updated[0]!;
            await emitBotEvent(tx, bot.id, 'bot.status_change', statusData(bot.id, { code: 'fatal', subCode: 'browser_crashed', message: u.statusMessage, updatedAt: u.statusUpdatedAt }));
          }
        });
      }
    }
    return stale.map((b) => b.id);
  }
}
