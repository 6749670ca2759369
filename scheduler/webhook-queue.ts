/** How webhook attempts become pg-boss jobs (`webhook.deliver`), inside the caller's transaction. */
import type PgBoss from 'pg-boss';
import type { SqlExecutor } from '../lib/db/transaction.js';
import { QUEUES } from './queues.js';

export interface AttemptJob {
  /** The job id, stored on the delivery first: only that job may make the attempt. */
  jobId: string;
  deliveryId: string;
  /** Due time; now when omitted. */
  startAfter?: Date;
  manual?: boolean;
}

export interface WebhookQueue {
  /** Inserts one job per attempt inside the caller's transaction. */
  enqueue(sql: SqlExecutor, jobs: AttemptJob[]): Promise<void>;
  /** After the transaction committed: wakes this process's delivery workers for jobs due now. */
  wake(): void;
}

export class PgBossWebhookQueue implements WebhookQueue {
  /** The workers to wake (set by whoever starts them in this process). */
  wakers: (() => void)[] = [];

  constructor(private readonly boss: PgBoss) {}

  async enqueue(sql: SqlExecutor, jobs: AttemptJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const rows = jobs.map((j) => ({
      id: j.jobId,
      name: QUEUES.webhookDeliver.name,
      data: QUEUES.webhookDeliver.payload.parse({ deliveryId: j.deliveryId, ...(j.manual ? { manual: true } : {}) }),
      ...(j.startAfter ? { startAfter: j.startAfter.toISOString() } : {}),
    }));
    await this.boss.insert(rows, { db: sql });
  }

  wake(): void {
    for (const w of this.wakers) w();
  }
}
