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
   * One job per attempt of one webhook delivery (scheduler/webhook-deliver.ts). The handler
   * schedules the next attempt itself, as a new job due after its own backoff (so the schedule
   * spans 24 h and is configurable); pg-boss's retries only cover a worker that died or a
   * database that failed mid-attempt, and re-run the same job.
   */
  webhookDeliver: defineQueue({
    name: 'webhook.deliver',
    payload: z.object({ deliveryId: z.string(), manual: z.boolean().optional() }),
    options: { policy: 'standard', retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 120 },
  }),
  /**
   * Sync one connected calendar (events, bots, push channels). Sent debounced per calendar
   * (pg-boss singleton slots), so a burst of push notifications makes one sync at once and at
   * most one more after it; syncs of one calendar never overlap (an advisory lock in the sync).
   */
  calendarSync: defineQueue({
    name: 'calendar.sync',
    payload: z.object({ calendarId: z.string().min(1).max(64) }),
    options: { policy: 'standard', retryLimit: 5, retryDelay: 20, retryBackoff: true, expireInSeconds: 15 * 60 },
  }),
  /**
   * Redo a bot's transcript from its recording with a cloud provider, after the live one fell
   * back to local mid-meeting. Retries with exponential backoff while the provider fails
   * (TRANSCRIPT_REDO_RETRY_LIMIT / _DELAY_S, set per job); the last attempt transcribes
   * locally instead. Worked by the bot role (it has the engines).
   */
  transcriptRedo: defineQueue({
    name: 'transcript.redo',
    payload: z.object({ botId: z.string(), provider: z.enum(['assemblyai', 'openai']) }),
    options: { policy: 'standard', retryLimit: 8, retryDelay: 60, retryBackoff: true, expireInSeconds: 2 * 3600 },
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
