/**
 * Jobs as data: every queue has one definition — its name, the zod schema of its payload and
 * its retry/expiry policy — and payloads are validated when sent and when received.
 */
import type PgBoss from 'pg-boss';
import { z } from 'zod';

export interface QueueDefinition<T extends z.ZodType> {
  name: string;
  payload: T;
  options: Omit<PgBoss.Queue, 'name'>;
}

const defineQueue = <T extends z.ZodType>(def: QueueDefinition<T>) => def;

export const QUEUES = {
  /**
   * One job per bot, due at `join_at`. The job stays active for the whole meeting, so its
   * expiry is set per bot (longer than max_duration_s); worker death is caught sooner by the
   * bot heartbeat sweep, which fails the job so pg-boss retries it (the bot rejoins).
   */
  botJoin: defineQueue({
    name: 'bot.join',
    payload: z.object({ botId: z.string() }),
    options: { policy: 'standard', retryLimit: 2, retryDelay: 5, retryBackoff: true },
  }),
  /**
   * The post-meeting pipeline of one bot: analytics, then the summary. Sent in the same
   * transaction that moves the bot to `done` (reason `done`), or by POST …/summary/regenerate.
   * `stately` with the bot id as singleton key: at most one queued and one running per bot, so
   * repeated regenerate requests collapse. The handler is idempotent (upserts keyed by bot).
   */
  postMeeting: defineQueue({
    name: 'meeting.post-process',
    payload: z.object({ botId: z.string(), reason: z.enum(['done', 'regenerate']) }),
    options: { policy: 'stately', retryLimit: 5, retryDelay: 15, retryBackoff: true, expireInSeconds: 30 * 60 },
  }),
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES]['name'];

export async function createQueues(boss: PgBoss): Promise<void> {
  for (const def of Object.values(QUEUES)) {
    await boss.createQueue(def.name, { name: def.name, ...def.options });
  }
}

export function parsePayload<T extends z.ZodType>(def: QueueDefinition<T>, data: unknown): z.infer<T> {
  return def.payload.parse(data);
}
