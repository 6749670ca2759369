/**
 * `POST /webhooks/microsoft-calendar/lifecycle`: Graph lifecycle notifications (research
 * §2.3). `reauthorizationRequired` flags the subscription for reauthorization, `subscriptionRemoved`
 * forgets it (the sync re-creates it), `missed` just syncs; each enqueues a debounced sync,
 * which does the provider calls — the answer goes out at once.
 */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { calendarChannels } from '../../lib/db/schema.js';
import { MICROSOFT_LIFECYCLE_PATH } from '../../scheduler/calendar/microsoft-provider.js';
import type { Router } from '../context.js';
import { ClientState, readNotifications, SubscriptionId, validationResponse, verifiedChannels } from './graph.js';

const Lifecycle = z.object({
  value: z
    .array(
      z.object({
        subscriptionId: SubscriptionId,
        clientState: ClientState.optional(),
        lifecycleEvent: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']),
        subscriptionExpirationDateTime: z.string().max(64).optional(),
        tenantId: z.string().max(64).optional(),
      }),
    )
    .max(1000),
});

export function register(app: Router) {
  app.post(MICROSOFT_LIFECYCLE_PATH, async (c) => {
    const handshake = validationResponse(c);
    if (handshake) return handshake;
    const body = await readNotifications(c, Lifecycle);
    const { db, calendars } = c.var.services;
    const calendarIds = new Set<string>();
    for (const { item, channel } of await verifiedChannels(c, body.value)) {
      if (item.lifecycleEvent === 'reauthorizationRequired') await db.update(calendarChannels).set({ needsReauthorization: true }).where(eq(calendarChannels.id, channel.id));
      if (item.lifecycleEvent === 'subscriptionRemoved') await db.delete(calendarChannels).where(eq(calendarChannels.id, channel.id));
      calendarIds.add(channel.calendarId);
    }
    for (const id of calendarIds) await calendars.requestSync(id);
    return c.body(null, 202);
  });
}
