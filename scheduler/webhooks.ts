/**
 * Outbound webhooks in the scheduler role: the fan-out (events → deliveries) and
 * WEBHOOK_CONCURRENCY pg-boss workers running one attempt each. pg-boss's own stop (in the
 * ordered shutdown) waits for attempts in flight.
 */
import type PgBoss from 'pg-boss';
import { HttpWebhookSender, type WebhookSender } from '../api/webhooks/http-sender.js';
import type { Resolver } from '../api/webhooks/url-guard.js';
import type { Config } from '../lib/config.js';
import type { Database } from '../lib/db/index.js';
import type { Notifications } from '../lib/db/notifications.js';
import type { Logger } from '../lib/log.js';
import type { SecretBox } from '../lib/secrets.js';
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
  const workerIds: string[] = [];
  for (let i = 0; i < config.WEBHOOK_CONCURRENCY; i++) {
    workerIds.push(
      await boss.work<unknown>(QUEUES.webhookDeliver.name, { batchSize: 1, pollingIntervalSeconds: config.WEBHOOK_POLL_INTERVAL_MS / 1000 }, async ([job]) => {
        if (job) await deliverWebhook(deps, job);
      }),
    );
  }
  queue.wakers.push(() => {
    for (const id of workerIds) boss.notifyWorker(id);
  });
  const fanout = new WebhookFanout(opts.database, queue, opts.notifications, log, { pollIntervalMs: Math.max(1000, config.WEBHOOK_POLL_INTERVAL_MS) });
  fanout.start();
  return {
    queue,
    fanout,
    async stop() {
      await fanout.stop();
      for (const id of workerIds) await boss.offWork({ id }).catch(() => undefined);
    },
  };
}
