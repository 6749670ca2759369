import { createRoute, z } from '@hono/zod-openapi';
import { ConnectError } from '../../scheduler/calendar/service.js';
import { calendarsJson, CalendarSchema } from '../calendar-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';
import { ProviderParamSchema } from './calendars.connect.js';

const Query = z.object({
  state: z.string().max(512).optional(),
  code: z.string().max(4096).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
  // Providers add these; they are not used.
  scope: z.string().max(4096).optional(),
  session_state: z.string().max(512).optional(),
});

export const route = createRoute({
  method: 'get',
  path: '/v1/calendars/{provider}/callback',
  operationId: 'calendars.callback',
  tags: ['calendars'],
  summary: 'OAuth redirect URI: stores the calendar and starts its first sync',
  description:
    'Register `${PUBLIC_URL}/v1/calendars/google/callback` and `${PUBLIC_URL}/v1/calendars/microsoft/callback` as redirect URIs with the providers. Reached by the browser, without credentials: the state names the user.',
  request: { params: ProviderParamSchema, query: Query },
  responses: { 200: jsonResponse(z.object({ calendar: CalendarSchema }), 'Connected; the first sync is on its way'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { provider } = c.req.valid('param');
    const q = c.req.valid('query');
    const { calendars, db } = c.var.services;
    try {
      const calendar = await calendars.finishConnect(provider, { state: q.state, code: q.code, error: q.error, errorDescription: q.error_description });
      const [json] = await calendarsJson(db, [calendar]);
      return c.json({ calendar: json! }, 200);
    } catch (err) {
      if (err instanceof ConnectError) throw new ApiError(err.code, err.message);
      throw err;
    }
  });
}
