import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { calendars } from '../../lib/db/schema.js';
import { CalendarRulesSchema, readRules } from '../../scheduler/calendar/rules.js';
import { calendarsJson, CalendarSchema, loadCalendar } from '../calendar-view.js';
import { assertCanManageCalendar } from '../calendar-access.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { IdParamSchema, jsonBody, jsonResponse } from '../schemas.js';

const Body = z
  .object({
    rules: CalendarRulesSchema.partial().openapi({ description: 'Auto-join rules; the fields given replace the current ones' }),
  })
  .strict()
  .openapi('UpdateCalendarRequest');

export const route = createRoute({
  method: 'patch',
  path: '/v1/calendars/{id}',
  operationId: 'calendars.update',
  tags: ['calendars'],
  summary: "Change a calendar's auto-join rules; its upcoming events are decided again at once",
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, body: jsonBody(Body) },
  responses: { 200: jsonResponse(CalendarSchema, 'The calendar'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, calendars: service } = c.var.services;
    const calendar = await loadCalendar(db, c.var.principal.workspaceId, c.req.valid('param').id);
    assertCanManageCalendar(c.var.principal, calendar);
    const patch = c.req.valid('json').rules;
    const rules = CalendarRulesSchema.parse({ ...readRules(calendar.rules), ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) });
    await db.update(calendars).set({ rules, updatedAt: new Date() }).where(eq(calendars.id, calendar.id));
    await service.reevaluate(calendar.id);
    const [json] = await calendarsJson(db, [await loadCalendar(db, c.var.principal.workspaceId, calendar.id)]);
    return c.json(json!, 200);
  });
}
