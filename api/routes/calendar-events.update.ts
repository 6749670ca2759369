import { createRoute, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { calendarEvents } from '../../lib/db/schema.js';
import { assertCanManageCalendar } from '../calendar-access.js';
import { calendarEventsJson, CalendarEventSchema, loadCalendar } from '../calendar-view.js';
import type { Router } from '../context.js';
import { errorResponses, notFound } from '../errors.js';
import { IdParamSchema, jsonBody, jsonResponse } from '../schemas.js';

const Body = z
  .object({
    record: z.boolean().nullable().openapi({ description: 'true: send a bot whatever the rules say; false: never; null: follow the calendar rules' }),
  })
  .strict()
  .openapi('UpdateCalendarEventRequest');

export const route = createRoute({
  method: 'patch',
  path: '/v1/calendar-events/{id}',
  operationId: 'calendarEvents.update',
  tags: ['calendars'],
  summary: 'Override the auto-join decision for one event',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, body: jsonBody(Body) },
  responses: { 200: jsonResponse(CalendarEventSchema, 'The event, decided again'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, calendars } = c.var.services;
    const { id } = c.req.valid('param');
    const scope = and(eq(calendarEvents.id, id), eq(calendarEvents.workspaceId, c.var.principal.workspaceId));
    const [found] = await db.select({ calendarId: calendarEvents.calendarId }).from(calendarEvents).where(scope);
    if (!found) throw notFound('calendar event');
    assertCanManageCalendar(c.var.principal, await loadCalendar(db, c.var.principal.workspaceId, found.calendarId));
    const [event] = await db.update(calendarEvents).set({ recordOverride: c.req.valid('json').record }).where(scope).returning();
    if (!event) throw notFound('calendar event');
    await calendars.reevaluate(event.calendarId, [event.id]);
    const [row] = await db.select().from(calendarEvents).where(scope);
    if (!row) throw notFound('calendar event');
    const [json] = await calendarEventsJson(db, [row]);
    return c.json(json!, 200);
  });
}
