import { createRoute } from '@hono/zod-openapi';
import { loadCalendar } from '../calendar-view.js';
import { assertCanManageCalendar } from '../calendar-access.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { IdParamSchema } from '../schemas.js';

export const route = createRoute({
  method: 'delete',
  path: '/v1/calendars/{id}',
  operationId: 'calendars.delete',
  tags: ['calendars'],
  summary: 'Disconnect and remove a calendar: revokes the grant, stops push channels, cancels the bots only it wanted',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Removed' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, calendars } = c.var.services;
    const principal = c.var.principal;
    const calendar = await loadCalendar(db, principal.workspaceId, c.req.valid('param').id);
    assertCanManageCalendar(principal, calendar);
    await calendars.remove(calendar, principal.type === 'user' ? { type: 'user', id: principal.userId } : { type: 'api_key', id: principal.keyId });
    return c.body(null, 204);
  });
}
