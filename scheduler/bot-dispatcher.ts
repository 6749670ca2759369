/**
 * How the API hands bots to the workers: a `bot.join` job created in the same transaction as
 * the bot row (due at join_at), cancellation, and leave requests that reach the process
 * running the bot through NOTIFY (and its periodic re-read of the row).
 */
import { randomUUID } from 'node:crypto';
import type PgBoss from 'pg-boss';
import { CHANNELS, notifySql } from '../lib/db/notifications.js';
import type { SqlExecutor } from '../lib/db/transaction.js';
import { QUEUES } from './queues.js';

export interface ScheduleBot {
  botId: string;
  joinAt: Date;
  /** Longest the job may stay active: the bot's own limits plus time to finalize. */
  expireInSeconds: number;
}

export interface BotDispatcher {
  /** Enqueues the bot's join inside the caller's transaction; returns the job id to store on the bot. */
  schedule(sql: SqlExecutor, bot: ScheduleBot): Promise<string>;
  /** The same for many bots in one statement (calendar syncs); job ids in input order. */
  scheduleMany(sql: SqlExecutor, bots: ScheduleBot[]): Promise<string[]>;
  cancel(jobId: string): Promise<void>;
  /** Tells the process running the bot to look at its row again (leave requested). */
  poke(sql: SqlExecutor, botId: string): Promise<void>;
}

/** pg-boss caps expiry below 24 h. */
const MAX_EXPIRE_S = 23 * 3600;

export class PgBossBotDispatcher implements BotDispatcher {
  constructor(private readonly boss: PgBoss) {}

  async schedule(sql: SqlExecutor, bot: ScheduleBot): Promise<string> {
    const id = randomUUID();
    const payload = QUEUES.botJoin.payload.parse({ botId: bot.botId });
    await this.boss.send(QUEUES.botJoin.name, payload, {
      id,
      startAfter: bot.joinAt,
      singletonKey: bot.botId,
      expireInSeconds: Math.min(MAX_EXPIRE_S, Math.max(60, Math.ceil(bot.expireInSeconds))),
      db: sql,
    });
    if (bot.joinAt.getTime() <= Date.now() + 1000) {
      const n = notifySql(CHANNELS.botDue, bot.botId);
      await sql.executeSql(n.text, n.values);
    }
    return id;
  }

  async scheduleMany(sql: SqlExecutor, bots: ScheduleBot[]): Promise<string[]> {
    if (bots.length === 0) return [];
    const jobs = bots.map((bot) => ({
      id: randomUUID(),
      name: QUEUES.botJoin.name,
      data: QUEUES.botJoin.payload.parse({ botId: bot.botId }),
      startAfter: bot.joinAt.toISOString(),
      singletonKey: bot.botId,
      expireInSeconds: Math.min(MAX_EXPIRE_S, Math.max(60, Math.ceil(bot.expireInSeconds))),
    }));
    await this.boss.insert(jobs, { db: sql });
    for (const bot of bots) {
      if (bot.joinAt.getTime() > Date.now() + 1000) continue;
      const n = notifySql(CHANNELS.botDue, bot.botId);
      await sql.executeSql(n.text, n.values);
    }
    return jobs.map((j) => j.id);
  }

  async cancel(jobId: string): Promise<void> {
    await this.boss.cancel(QUEUES.botJoin.name, jobId);
  }

  async poke(sql: SqlExecutor, botId: string): Promise<void> {
    const n = notifySql(CHANNELS.botControl, botId);
    await sql.executeSql(n.text, n.values);
  }
}
