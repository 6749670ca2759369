/**
 * `POST /webhooks/microsoft-calendar`: Microsoft Graph change notifications for `me/events`
 * (research §2.3). Answers the validation handshake; otherwise checks each item's
 * clientState in constant time, enqueues one debounced sync per calendar, and answers 202
 * well within Graph's 3 seconds. Items for unknown subscriptions or with a wrong clientState
 * are dropped.
 */
import { z } from 'zod';
import { MICROSOFT_WEBHOOK_PATH } from '../../scheduler/calendar/microsoft-provider.js';
import type { Router } from '../context.js';
import { ClientState, readNotifications, SubscriptionId, validationResponse, verifiedChannels } from './graph.js';

const Notifications = z.object({
  value: z
    .array(
      z.object({
        subscriptionId: SubscriptionId,
        clientState: ClientState.optional(),
        changeType: z.string().max(64).optional(),
        resource: z.string().max(2048).optional(),
        subscriptionExpirationDateTime: z.string().max(64).optional(),
        tenantId: z.string().max(64).optional(),
      }),
    )
    .max(1000),
});

export function register(app: Router) {
  app.post(MICROSOFT_WEBHOOK_PATH, async (c) => {
    const handshake = validationResponse(c);
    if (handshake) return handshake;
    const body = await readNotifications(c, Notifications);
    const verified = await verifiedChannels(c, body.value);
    for (const calendarId of new Set(verified.map((v) => v.channel.calendarId))) await c.var.services.calendars.requestSync(calendarId);
    return c.body(null, 202);
  });
}
