/**
 * Outbound webhooks in the scheduler role: the fan-out (events → deliveries) and a JobPool
 * (scheduler/job-pool.ts) running up to WEBHOOK_CONCURRENCY attempts at once: it refills as
 * soon as an attempt ends, wakes when the fan-out queues new deliveries, and polls for due
 * retries otherwise.
 */
import type PgBoss from 'pg-boss';
import { HttpWebhookSender, type WebhookSender } from '../api/webhooks/http-sender.js';
import type { Resolver } from '../api/webhooks/url-guard.js';
import type { Config } from '../lib/config.js';
import type { Database } from '../lib/db/index.js';
import type { Notifications } from '../lib/db/notifications.js';
import type { Logger } from '../lib/log.js';
import type { SecretBox } from '../lib/secrets.js';
import { JobPool } from './job-pool.js';
import { QUEUES } from './queues.js';
import { deliverWebhook, type DeliveryDeps } from './webhook-deliver.js';
import { WebhookFanout } from './webhook-fanout.js';
import { PgBossWebhookQueue } from './webhook-queue.js';
import { retryPolicyFrom, type RetryPolicy } from './webhook-retry.js';

export interface WebhookDelivery {
  queue: PgBossWebhookQueue;
  fanout: WebhookFanout;
  stop(): Promise<void>;
}

export async function startWebhookDelivery(opts: {
  config: Config;
  database: Database;
  boss: PgBoss;
  notifications: Notifications;
  secrets: SecretBox;
  log: Logger;
  /** Replaces the HTTP sender (never needed in production). */
  sender?: WebhookSender;
  /** Replaces DNS for the SSRF guard (tests of rebinding). */
  resolve?: Resolver;
  /** Overrides the schedule from the settings. */
  retry?: RetryPolicy;
  /** The process's queue, when the API shares it (its redeliveries then wake these workers). */
  queue?: PgBossWebhookQueue;
}): Promise<WebhookDelivery> {
  const { config, boss, log } = opts;
  const queue = opts.queue ?? new PgBossWebhookQueue(boss);
  const deps: DeliveryDeps = {
    database: opts.database,
    queue,
    secrets: opts.secrets,
    sender: opts.sender ?? new HttpWebhookSender({ timeoutMs: config.WEBHOOK_TIMEOUT_MS, allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE, resolve: opts.resolve }),
    retry: opts.retry ?? retryPolicyFrom(config),
    log,
  };
  const pool = new JobPool<object>(boss, {
    queue: QUEUES.webhookDeliver.name,
    concurrency: config.WEBHOOK_CONCURRENCY,
    pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
    log,
    handle: async (job) => {
      try {
        await deliverWebhook(deps, job);
        await boss.complete(QUEUES.webhookDeliver.name, job.id);
      } catch (err) {
        // The database failed mid-attempt: pg-boss runs the same job again after its retry delay.
        log.warn({ err, jobId: job.id }, 'webhook attempt failed to run; pg-boss retries it');
        await boss.fail(QUEUES.webhookDeliver.name, job.id, { error: (err as Error).message }).catch(() => undefined);
      }
    },
  });
  queue.wakers.push(() => pool.kick());
  pool.start();
  const fanout = new WebhookFanout(opts.database, queue, opts.notifications, log, { pollIntervalMs: Math.max(1000, config.WEBHOOK_POLL_INTERVAL_MS) });
  fanout.start();
  return {
    queue,
    fanout,
    async stop() {
      await fanout.stop();
      await pool.stop();
    },
  };
}

