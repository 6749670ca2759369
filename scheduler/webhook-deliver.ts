/**
 * The `webhook.deliver` handler: one attempt of one delivery. It signs the event (Standard
 * Webhooks; `webhook-id` is the event id, the same on every retry and redelivery), POSTs it
 * through the SSRF-guarded sender, logs the attempt, and decides what comes next:
 *   2xx → succeeded; 410 → the endpoint is disabled and the delivery failed; anything else
 *   (other statuses, 3xx since redirects are not followed, refused, timeout) → a new job due
 *   after the backoff, until the retry window is over → failed.
 * Only the job whose id is stored on the delivery may attempt it, so a redelivery or a
 * duplicate job never sends twice in parallel; a re-run of the same job (worker crash) does.
 */
import { randomUUID } from 'node:crypto';
import { and, count, eq, gte } from 'drizzle-orm';
import { secretAad, signedHeaders } from '../api/webhooks/signature.js';
import type { WebhookResult, WebhookSender } from '../api/webhooks/http-sender.js';
import type { Database } from '../lib/db/index.js';
import { events, webhookAttempts, webhookDeliveries, webhookEndpoints } from '../lib/db/schema.js';
import { inTransaction } from '../lib/db/transaction.js';
import { eventJson } from '../lib/events.js';
import type { Logger } from '../lib/log.js';
import type { SecretBox } from '../lib/secrets.js';
import { parsePayload, QUEUES } from './queues.js';
import type { WebhookQueue } from './webhook-queue.js';
import { nextAttemptAt, type RetryPolicy } from './webhook-retry.js';

export interface DeliveryDeps {
  database: Database;
  queue: WebhookQueue;
  secrets: SecretBox;
  sender: WebhookSender;
  retry: RetryPolicy;
  log: Logger;
  random?: () => number;
}

export type AttemptOutcome = 'succeeded' | 'retry_scheduled' | 'failed' | 'endpoint_disabled' | 'cancelled' | 'stale';

export async function deliverWebhook(deps: DeliveryDeps, job: { id: string; data: unknown }): Promise<AttemptOutcome> {
  const { deliveryId, manual = false } = parsePayload(QUEUES.webhookDeliver, job.data);
  const { db } = deps.database;
  const [row] = await db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints, event: events })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!row || row.delivery.jobId !== job.id || row.delivery.status !== 'pending') return 'stale';
  const { delivery, endpoint, event } = row;
  if (!endpoint.enabled) {
    await db
      .update(webhookDeliveries)
      .set({ status: 'cancelled', jobId: null, nextAttemptAt: null, completedAt: new Date(), lastError: 'the endpoint is disabled' })
      .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.jobId, job.id)));
    return 'cancelled';
  }

  const now = new Date();
  const secrets = [deps.secrets.decrypt(endpoint.secret, secretAad(endpoint.id))];
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    secrets.push(deps.secrets.decrypt(endpoint.previousSecret, secretAad(endpoint.id)));
  }
  const body = JSON.stringify(eventJson(event));
  const headers = signedHeaders(secrets, event.id, Math.floor(now.getTime() / 1000), body);
  const result = await deps.sender.post({ url: endpoint.url, headers, body });
  const outcome = await record(deps, { deliveryId: delivery.id, endpointId: endpoint.id, jobId: job.id, manual, startedAt: now, result });
  deps.log.debug({ deliveryId, eventId: event.id, endpointId: endpoint.id, status: result.statusCode, error: result.error, outcome }, 'webhook attempt');
  return outcome;
}

async function record(
  deps: DeliveryDeps,
  a: { deliveryId: string; endpointId: string; jobId: string; manual: boolean; startedAt: Date; result: WebhookResult },
): Promise<AttemptOutcome> {
  const { result } = a;
  let wake = false;
  const outcome = await inTransaction(deps.database, async (tx, exec): Promise<AttemptOutcome> => {
    const [cur] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, a.deliveryId)).for('update');
    if (!cur) return 'stale';
    const attempt = cur.attempts + 1;
    await tx.insert(webhookAttempts).values({
      deliveryId: a.deliveryId,
      attempt,
      manual: a.manual,
      startedAt: a.startedAt,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      error: result.error,
    });
    const base = {
      attempts: attempt,
      lastStatusCode: result.statusCode,
      lastError: result.error ?? (isSuccess(result) ? null : `the endpoint answered ${result.statusCode}`),
      lastLatencyMs: result.latencyMs,
    };
    const update = (set: Partial<typeof webhookDeliveries.$inferInsert>) =>
      tx.update(webhookDeliveries).set({ ...base, ...set }).where(eq(webhookDeliveries.id, a.deliveryId));
    const finished = { jobId: null, nextAttemptAt: null, completedAt: new Date() };

    // A manual redelivery took over while this attempt ran: log it, leave the schedule alone.
    if (cur.jobId !== a.jobId || cur.status !== 'pending') {
      await update({});
      return 'stale';
    }
    if (isSuccess(result)) {
      await update({ status: 'succeeded', ...finished });
      return 'succeeded';
    }
    if (result.statusCode === 410) {
      await update({ status: 'failed', ...finished, lastError: 'the endpoint answered 410 Gone; it has been disabled' });
      await tx
        .update(webhookEndpoints)
        .set({ enabled: false, disabledReason: 'the receiver answered 410 Gone', disabledAt: new Date(), updatedAt: new Date() })
        .where(and(eq(webhookEndpoints.id, a.endpointId), eq(webhookEndpoints.enabled, true)));
      return 'endpoint_disabled';
    }
    const [inWindow] = await tx
      .select({ n: count() })
      .from(webhookAttempts)
      .where(and(eq(webhookAttempts.deliveryId, a.deliveryId), gte(webhookAttempts.startedAt, cur.windowStartedAt)));
    const next = nextAttemptAt(inWindow?.n ?? attempt, cur.windowStartedAt, new Date(), deps.retry, deps.random);
    if (!next) {
      await update({ status: 'failed', ...finished });
      return 'failed';
    }
    const jobId = randomUUID();
    await deps.queue.enqueue(exec, [{ jobId, deliveryId: a.deliveryId, startAfter: next }]);
    await update({ jobId, nextAttemptAt: next });
    wake = next.getTime() <= Date.now();
    return 'retry_scheduled';
  });
  if (wake) deps.queue.wake();
  return outcome;
}

const isSuccess = (r: WebhookResult) => r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
