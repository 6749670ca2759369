/**
 * Outbound webhooks in the scheduler role: the fan-out (events → deliveries) and a pool
 * running up to WEBHOOK_CONCURRENCY attempts at once. The pool fetches `webhook.deliver`
 * jobs itself (pg-boss's `work` waits a whole polling interval after every job, which would
 * cap a worker at one delivery per interval): it refills as soon as an attempt ends, wakes
 * when the fan-out queues new deliveries, and polls for due retries otherwise.
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
  const pool = new DeliveryPool(boss, (job) => deliverWebhook(deps, job), { concurrency: config.WEBHOOK_CONCURRENCY, pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS, log });
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

class DeliveryPool {
  #active = 0;
  #inflight = new Set<Promise<void>>();
  #fetching = false;
  #again = false;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly boss: PgBoss,
    private readonly handle: (job: PgBoss.Job<unknown>) => Promise<unknown>,
    private readonly opts: { concurrency: number; pollIntervalMs: number; log: Logger },
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.kick(), this.opts.pollIntervalMs);
    this.kick();
  }

  kick(): void {
    if (this.#stopping) return;
    if (this.#fetching) {
      this.#again = true;
      return;
    }
    this.#fetching = true;
    void this.#fill()
      .catch((err) => this.opts.log.warn({ err }, 'fetching webhook jobs failed'))
      .finally(() => {
        this.#fetching = false;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #fill(): Promise<void> {
    while (!this.#stopping) {
      const room = this.opts.concurrency - this.#active;
      if (room <= 0) return;
      const jobs = await this.boss.fetch<unknown>(QUEUES.webhookDeliver.name, { batchSize: room });
      if (!jobs?.length) return;
      for (const job of jobs) {
        this.#active += 1;
        const run = this.#run(job).finally(() => {
          this.#active -= 1;
          this.#inflight.delete(run);
          this.kick();
        });
        this.#inflight.add(run);
      }
    }
  }

  async #run(job: PgBoss.Job<unknown>): Promise<void> {
    try {
      await this.handle(job);
      await this.boss.complete(QUEUES.webhookDeliver.name, job.id);
    } catch (err) {
      // The database failed mid-attempt: pg-boss runs the same job again after its retry delay.
      this.opts.log.warn({ err, jobId: job.id }, 'webhook attempt failed to run; pg-boss retries it');
      await this.boss.fail(QUEUES.webhookDeliver.name, job.id, { error: (err as Error).message }).catch(() => undefined);
    }
  }

  /** Stops fetching and waits for the attempts in flight (each ends within WEBHOOK_TIMEOUT_MS). */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#inflight]);
  }
}
