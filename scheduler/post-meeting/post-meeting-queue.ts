/**
 * How work reaches the post-meeting pipeline: a `meeting.post-process` job sent inside the
 * caller's transaction (the one that moves a bot to `done`, or the one that marks a summary
 * for regeneration), so the job exists exactly when that change commits.
 */
import type PgBoss from 'pg-boss';
import type { SqlExecutor } from '../../lib/db/transaction.js';
import { QUEUES } from '../queues.js';

export type PostMeetingReason = 'done' | 'regenerate';

export interface PostMeetingQueue {
  /** Sends the job in the caller's transaction; false when one is already waiting for this bot. */
  enqueue(sql: SqlExecutor, botId: string, reason: PostMeetingReason): Promise<boolean>;
}

export class PgBossPostMeetingQueue implements PostMeetingQueue {
  constructor(private readonly boss: PgBoss) {}

  async enqueue(sql: SqlExecutor, botId: string, reason: PostMeetingReason): Promise<boolean> {
    const payload = QUEUES.postMeeting.payload.parse({ botId, reason });
    const id = await this.boss.send(QUEUES.postMeeting.name, payload, { singletonKey: botId, db: sql });
    return id !== null;
  }
}
