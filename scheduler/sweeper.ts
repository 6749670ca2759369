/**
 * The scheduler's watch over running bots. A bot in a live status whose heartbeat stopped
 * has lost its worker (crash, OOM, a killed pod): its job is failed so pg-boss retries it and
 * another worker rejoins the meeting; when retries are exhausted the bot ends fatal.
 *
 * While the database is unreachable no worker can write a heartbeat, so after an outage every
 * heartbeat looks stale: the sweeper then waits one stale period, in which live workers
 * heartbeat again, before it declares any bot lost.
 */
import { and, eq, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm';
import type PgBoss from 'pg-boss';
import type { Db } from '../lib/db/index.js';
import { bots, botStatusEvents } from '../lib/db/schema.js';
import { emitBotEvent, statusData } from '../lib/events.js';
import type { Logger } from '../lib/log.js';
import { QUEUES } from './queues.js';

const LIVE = ['joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording'];
/** Live, or ended but not yet finalized (the retry only finalizes). */
const WATCHED = [...LIVE, 'call_ended'];

export class BotSweeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** When the last sweep failed to reach the database (null: the last one did). */
  #unreachableSince: number | null = null;
  /** When the database answered again after an outage. */
  #reachableAgainAt = 0;

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
    let stale: { id: string; jobId: string | null; status: string }[];
    try {
      stale = await this.db
        .select({ id: bots.id, jobId: bots.jobId, status: bots.status })
        .from(bots)
        .where(
          and(
            inArray(bots.status, WATCHED),
            isNotNull(bots.jobId),
            or(lt(bots.heartbeatAt, staleBefore), and(isNull(bots.heartbeatAt), lt(bots.statusUpdatedAt, staleBefore))),
          ),
        );
    } catch (err) {
      this.#unreachableSince ??= Date.now();
      throw err;
    }
    if (this.#unreachableSince !== null) {
      this.log.info({ unreachableMs: Date.now() - this.#unreachableSince }, 'database reachable again; giving workers one stale period to heartbeat');
      this.#unreachableSince = null;
      this.#reachableAgainAt = Date.now();
    }
    if (Date.now() - this.#reachableAgainAt < this.opts.staleAfterMs) return [];
    await this.abandoned(stale);
    return stale.map((b) => b.id);
  }

  private async abandoned(stale: { id: string; jobId: string | null; status: string }[]): Promise<void> {
    for (const bot of stale) {
      const job = await this.boss.getJobById(QUEUES.botJoin.name, bot.jobId!);
      if (job?.state === 'active') {
        this.log.warn({ botId: bot.id, jobId: bot.jobId }, 'bot lost its worker; failing its job so it is retried');
        await this.boss.fail(QUEUES.botJoin.name, bot.jobId!, { reason: 'heartbeat lost' });
        // Out of the call until the retry rejoins (the history says why); the fresh heartbeat gives
        // the retry time to start before this bot counts as stale again.
        const message = `worker lost (no heartbeat for ${Math.round(this.opts.staleAfterMs / 1000)} s); rejoining on another worker`;
        await this.db.transaction(async (tx) => {
          const now = new Date();
          // A bot whose call had ended keeps its status: the retry only finalizes its recording.
          const moved = await tx
            .update(bots)
            .set({ status: 'joining_call', subCode: null, statusMessage: message, statusUpdatedAt: now, heartbeatAt: now })
            .where(and(eq(bots.id, bot.id), inArray(bots.status, LIVE)))
            .returning({ id: bots.id });
          if (moved.length) {
            await tx.insert(botStatusEvents).values({ botId: bot.id, code: 'joining_call', message, at: now });
            await emitBotEvent(tx, bot.id, 'bot.status_change', statusData(bot.id, { code: 'joining_call', subCode: null, message, updatedAt: now }));
          } else await tx.update(bots).set({ heartbeatAt: now }).where(eq(bots.id, bot.id));
        });
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
  }
}
