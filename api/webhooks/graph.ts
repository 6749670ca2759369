/** What the two Microsoft Graph webhooks share: the validation handshake and clientState checks. */
import type { Context } from 'hono';
import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import { calendarChannels } from '../../lib/db/schema.js';
import { constantTimeEqual, sha256Hex } from '../../lib/secrets.js';
import type { AppEnv } from '../context.js';
import { ApiError, zodIssues } from '../errors.js';

/**
 * Graph validates a notification URL by POSTing `?validationToken=<opaque>` and expects the
 * decoded token back as text/plain with 200 within 10 seconds. Returns that response, or
 * undefined for an ordinary notification.
 */
export function validationResponse(c: Context<AppEnv>): Response | undefined {
  const token = c.req.query('validationToken');
  if (token === undefined) return undefined;
  if (token.length === 0 || token.length > 4096 || /[\u0000-\u001f]/.test(token)) throw new ApiError('validation_failed', 'validationToken: not a Graph validation token');
  c.header('content-type', 'text/plain; charset=utf-8');
  return c.body(token, 200);
}

/** The JSON body, as `schema`, or a 400 in the error envelope. */
export async function readNotifications<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new ApiError('unsupported_media_type', 'Graph notifications are JSON');
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError('invalid_json', 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const { message, details } = zodIssues(parsed.error);
    throw new ApiError('validation_failed', `not a Graph notification: ${message}`, details);
  }
  return parsed.data;
}

export const SubscriptionId = z.string().regex(/^[\w.:-]{1,128}$/);
export const ClientState = z.string().max(255);

/** The channels named by the items whose clientState matches, checked per item in constant time. */
export async function verifiedChannels<I extends { subscriptionId: string; clientState?: string | undefined }>(c: Context<AppEnv>, items: I[]) {
  const ids = [...new Set(items.map((i) => i.subscriptionId))];
  if (ids.length === 0) return [];
  const rows = await c.var.services.db.select().from(calendarChannels).where(inArray(calendarChannels.id, ids));
  const byId = new Map(rows.filter((r) => r.provider === 'microsoft').map((r) => [r.id, r]));
  const verified: { item: I; channel: (typeof rows)[number] }[] = [];
  for (const item of items) {
    const channel = byId.get(item.subscriptionId);
    if (channel && constantTimeEqual(sha256Hex(item.clientState ?? ''), channel.secretHash)) verified.push({ item, channel });
  }
  return verified;
}
