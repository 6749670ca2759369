import { createRoute, z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { calendars } from '../../lib/db/schema.js';
import { calendarsJson, CalendarSchema } from '../calendar-view.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/calendars',
  operationId: 'calendars.list',
  tags: ['calendars'],
  summary: "The workspace's connected (and disconnected) calendars",
  security: [{ bearer: [] }],
  responses: { 200: jsonResponse(z.object({ data: z.array(CalendarSchema) }), 'Calendars, oldest first'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db } = c.var.services;
    const rows = await db.select().from(calendars).where(eq(calendars.workspaceId, c.var.principal.workspaceId)).orderBy(asc(calendars.createdAt));
    return c.json({ data: await calendarsJson(db, rows) }, 200);
  });
}
