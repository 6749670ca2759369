/**
 * `POST /webhooks/google-calendar`: Google Calendar push notifications (research §1.4). The
 * body is empty; the `X-Goog-*` headers name the channel. The channel token is checked in
 * constant time, the first `sync` message is acknowledged and ignored, and any other state
 * enqueues a debounced sync of the channel's calendar. Answers at once (Google retries slow
 * or failed deliveries).
 */
import { z } from 'zod';
import { and, eq } from 'drizzle-orm';
import { calendarChannels } from '../../lib/db/schema.js';
import { constantTimeEqual, sha256Hex } from '../../lib/secrets.js';
import { GOOGLE_WEBHOOK_PATH } from '../../scheduler/calendar/google-provider.js';
import type { Router } from '../context.js';
import { ApiError, notFound, zodIssues } from '../errors.js';

const printable = (max: number) => z.string().regex(/^[\x21-\x7e]+$/, 'printable ASCII only').max(max);

const Headers = z.object({
  channelId: printable(64),
  token: z.string().regex(/^[\x20-\x7e]*$/).max(256).default(''),
  resourceId: printable(256).optional(),
  resourceState: z.enum(['sync', 'exists', 'not_exists']),
  messageNumber: z.string().regex(/^\d{1,20}$/).optional(),
});

export function register(app: Router) {
  app.post(GOOGLE_WEBHOOK_PATH, async (c) => {
    const parsed = Headers.safeParse({
      channelId: c.req.header('x-goog-channel-id'),
      token: c.req.header('x-goog-channel-token'),
      resourceId: c.req.header('x-goog-resource-id'),
      resourceState: c.req.header('x-goog-resource-state'),
      messageNumber: c.req.header('x-goog-message-number'),
    });
    if (!parsed.success) {
      const { message, details } = zodIssues(parsed.error);
      throw new ApiError('validation_failed', `not a Google Calendar notification: ${message}`, details);
    }
    const h = parsed.data;
    const { db, calendars } = c.var.services;
    const [channel] = await db.select().from(calendarChannels).where(and(eq(calendarChannels.id, h.channelId), eq(calendarChannels.provider, 'google')));
    if (!channel) throw notFound('push channel');
    if (!constantTimeEqual(sha256Hex(h.token), channel.secretHash) || (h.resourceId && channel.resourceId && h.resourceId !== channel.resourceId)) {
      throw new ApiError('forbidden', 'the channel token does not match');
    }
    // The first message of every channel says only that it exists.
    if (h.resourceState !== 'sync') await calendars.requestSync(channel.calendarId);
    return c.body(null, 204);
  });
}
