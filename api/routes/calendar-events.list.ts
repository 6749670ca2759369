import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm';
import { calendarEvents } from '../../lib/db/schema.js';
import { calendarEventsJson, CalendarEventSchema } from '../calendar-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';

const Query = z.object({
  calendar_id: z.string().min(1).max(64).optional(),
  /** Also list cancelled events (whose bot already ran, kept for the record). */
  include_cancelled: z.enum(['true', 'false']).default('false'),
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** Keyset cursor over (start_at, id). */
const encodeCursor = (e: { startAt: Date; id: string }) => Buffer.from(JSON.stringify([e.startAt.toISOString(), e.id])).toString('base64url');

function decodeCursor(cursor: string): { startAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const startAt = new Date(String(at));
    if (typeof id === 'string' && id.length <= 64 && !Number.isNaN(startAt.getTime())) return { startAt, id };
  } catch {
    // fall through
  }
  throw new ApiError('validation_failed', 'cursor: not a cursor this API returned', [{ path: 'cursor', message: 'invalid' }]);
}

export const route = createRoute({
  method: 'get',
  path: '/v1/calendar-events',
  operationId: 'calendarEvents.list',
  tags: ['calendars'],
  summary: 'Upcoming calendar events, soonest first, with whether and why a bot will join',
  security: [{ bearer: [] }],
  request: { query: Query },
  responses: {
    200: jsonResponse(z.object({ data: z.array(CalendarEventSchema), next_cursor: z.string().nullable() }).openapi('CalendarEventList'), 'A page of events'),
    ...errorResponses,
  },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db } = c.var.services;
    const q = c.req.valid('query');
    const where: SQL[] = [eq(calendarEvents.workspaceId, c.var.principal.workspaceId), gt(calendarEvents.endAt, new Date())];
    if (q.calendar_id) where.push(eq(calendarEvents.calendarId, q.calendar_id));
    if (q.include_cancelled === 'false') where.push(or(eq(calendarEvents.status, 'confirmed'), eq(calendarEvents.status, 'tentative'))!);
    if (q.cursor) {
      const after = decodeCursor(q.cursor);
      where.push(or(gt(calendarEvents.startAt, after.startAt), and(eq(calendarEvents.startAt, after.startAt), gt(calendarEvents.id, after.id)))!);
    }
    const rows = await db
      .select()
      .from(calendarEvents)
      .where(and(...where))
      .orderBy(asc(calendarEvents.startAt), asc(calendarEvents.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return c.json({ data: await calendarEventsJson(db, page), next_cursor: rows.length > q.limit && last ? encodeCursor(last) : null }, 200);
  });
}
