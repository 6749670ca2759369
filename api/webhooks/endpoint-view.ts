/** Webhook endpoints and deliveries as the API shows them, and who may manage them. */
import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import type { Db } from '../../lib/db/index.js';
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../lib/db/schema.js';
import { WEBHOOK_EVENT_TYPES } from '../../lib/events.js';
import type { AppEnv } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { checkWebhookUrl } from './url-guard.js';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;

/** Endpoints one workspace may have. */
export const MAX_ENDPOINTS_PER_WORKSPACE = 20;

export const EventTypesSchema = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((a) => new Set(a).size === a.length, 'event types must not repeat')
  .openapi({ description: 'Event types to send; empty sends every type' });

export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().openapi({ description: 'Why Notula disabled it (e.g. the receiver answered 410 Gone)' }),
    disabled_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookEndpoint');

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().openapi({ description: 'The `whsec_…` signing secret (Standard Webhooks). Shown only here, once.' }),
}).openapi('WebhookEndpointWithSecret');

export const endpointJson = (e: EndpointRow): z.infer<typeof WebhookEndpointSchema> => ({
  id: e.id,
  url: e.url,
  description: e.description,
  event_types: e.eventTypes as z.infer<typeof WebhookEndpointSchema>['event_types'],
  enabled: e.enabled,
  disabled_reason: e.disabledReason,
  disabled_at: e.disabledAt?.toISOString() ?? null,
  created_at: e.createdAt.toISOString(),
  updated_at: e.updatedAt.toISOString(),
});

export const AttemptSchema = z
  .object({
    attempt: z.number().int(),
    manual: z.boolean(),
    at: z.string(),
    status_code: z.number().int().nullable().openapi({ description: 'The HTTP status the receiver answered; null when no response came' }),
    latency_ms: z.number().int(),
    error: z.string().nullable(),
  })
  .openapi('WebhookAttempt');

export const DeliverySchema = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    event_id: z.string().openapi({ description: 'Also the `webhook-id` header of every attempt' }),
    event_type: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed', 'cancelled']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_latency_ms: z.number().int().nullable(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    attempt_log: z.array(AttemptSchema).openapi({ description: 'Every attempt, oldest first (the latest 50)' }),
  })
  .openapi('WebhookDelivery');

export const deliveryJson = (d: DeliveryRow, eventType: string, attempts: AttemptRow[]): z.infer<typeof DeliverySchema> => ({
  id: d.id,
  endpoint_id: d.endpointId,
  event_id: d.eventId,
  event_type: eventType,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  last_latency_ms: d.lastLatencyMs,
  next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
  created_at: d.createdAt.toISOString(),
  completed_at: d.completedAt?.toISOString() ?? null,
  attempt_log: attempts.map((a) => ({ attempt: a.attempt, manual: a.manual, at: a.startedAt.toISOString(), status_code: a.statusCode, latency_ms: a.latencyMs, error: a.error })),
});

export async function loadEndpoint(db: Db, workspaceId: string, id: string): Promise<EndpointRow> {
  const [row] = await db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.workspaceId, workspaceId)));
  if (!row) throw notFound('webhook endpoint');
  return row;
}

/** API keys and workspace owners/admins manage endpoints; members may look. */
export function requireEndpointManager(c: Context<AppEnv>): void {
  const p = c.var.principal;
  if (p.type === 'user' && p.role === 'member') throw new ApiError('forbidden', 'managing webhook endpoints needs the owner or admin role, or an API key');
}

/** Validates a URL for an endpoint (shape and SSRF guard); returns it normalised. */
export async function acceptableUrl(c: Context<AppEnv>, raw: string): Promise<string> {
  const { config, resolveHost } = c.var.services;
  const checked = await checkWebhookUrl(raw, { allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE, resolve: resolveHost });
  if (!checked.ok) throw new ApiError('invalid_webhook_url', `url: ${checked.reason}`, [{ path: 'url', message: checked.reason }]);
  return checked.url.toString();
}
