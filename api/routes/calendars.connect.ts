import { createRoute, z } from '@hono/zod-openapi';
import { ConnectError } from '../../scheduler/calendar/service.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';

export const ProviderParamSchema = z.object({
  provider: z.enum(['google', 'microsoft']).openapi({ param: { name: 'provider', in: 'path' }, example: 'google' }),
});

const Query = z.object({
  redirect: z.enum(['true', 'false']).default('true').openapi({ description: 'false answers 200 with the URL instead of redirecting (for single-page apps)' }),
});

const ConnectSchema = z.object({ authorization_url: z.string() }).openapi('CalendarConnect');

export const route = createRoute({
  method: 'get',
  path: '/v1/calendars/{provider}/connect',
  operationId: 'calendars.connect',
  tags: ['calendars'],
  summary: "Start connecting your Google or Microsoft calendar: redirects to the provider's consent page",
  description:
    'Needs a user login (the calendar belongs to that user). The consent asks for offline, read-only calendar access; its state is bound to you, single use and valid for ten minutes. The provider then sends the browser to /v1/calendars/{provider}/callback.',
  security: [{ bearer: [] }],
  request: { params: ProviderParamSchema, query: Query },
  responses: {
    302: { description: 'To the consent page', headers: z.object({ Location: z.string() }), content: { 'application/json': { schema: ConnectSchema } } },
    200: jsonResponse(ConnectSchema, 'The consent page URL (redirect=false)'),
    ...errorResponses,
  },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const principal = c.var.principal;
    if (principal.type !== 'user') throw new ApiError('forbidden', 'connecting a calendar needs a user login (an access token), not an API key: the calendar belongs to a user');
    const { provider } = c.req.valid('param');
    let url: string;
    try {
      url = await c.var.services.calendars.startConnect({ provider, workspaceId: principal.workspaceId, userId: principal.userId });
    } catch (err) {
      if (err instanceof ConnectError) throw new ApiError(err.code, err.message);
      throw err;
    }
    if (c.req.valid('query').redirect === 'false') return c.json({ authorization_url: url }, 200);
    return c.json({ authorization_url: url }, 302, { Location: url });
  });
}
