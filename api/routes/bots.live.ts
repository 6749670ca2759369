import { createRoute, z } from '@hono/zod-openapi';
import type { WebSocket } from 'ws';
import { loadBot } from '../bot-view.js';
import type { RouteDeps, Router } from '../context.js';
import { ApiError, ErrorEnvelopeSchema, errorResponses } from '../errors.js';
import { IdParamSchema } from '../schemas.js';

const Query = z.object({
  since: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0)
    .openapi({ description: 'The last seq you received: the stream resumes with the next one (0, the default, starts from the beginning)' }),
});

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/live',
  operationId: 'bots.live',
  tags: ['bots'],
  summary: "WebSocket: the bot's events in order — status changes, participants joining and leaving, transcript segments, recording and transcript done",
  description: [
    'Each text message is one event `{"id","type","timestamp","seq","data"}` with a per-bot `seq` (1, 2, …). After a disconnect, reconnect with `?since=<last seq>` to continue without gaps or repeats.',
    'Authenticate with `Authorization: Bearer <token>`, or — from a browser, which cannot set headers on a WebSocket — offer the subprotocols `notula.live.v1` and `bearer.<token>`: `new WebSocket(url, ["notula.live.v1", "bearer." + token])`. The server answers with `notula.live.v1`.',
    'The server pings every 25 s and closes sockets that stop answering. It closes with 1000 "bot finished" after the last event of a bot that is done or fatal, and with 1001 when it shuts down (reconnect with since). A client that reads slowly is not dropped: the server waits until it has read what was sent, then continues from the log.',
    'A failed handshake answers with the HTTP status only (401, 404, 400 for a bad since).',
  ].join('\n\n'),
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, query: Query },
  responses: {
    101: { description: 'Switching Protocols; events follow as text messages' },
    426: { description: 'Not a WebSocket request', content: { 'application/json': { schema: ErrorEnvelopeSchema } } },
    ...errorResponses,
  },
});

export function register(app: Router, deps: RouteDeps) {
  app.openapi(route, async (c, next) => {
    const { db, live } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const { since } = c.req.valid('query');
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError('upgrade_required', 'this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)');
    }
    const upgrade = deps.upgradeWebSocket(() => ({
      onOpen: (_event, ws) => live.open(ws.raw as WebSocket, bot.id, since),
    }));
    // The upgrade helper answers with the (empty) response that lets @hono/node-ws complete the handshake.
    return (await upgrade(c as unknown as Parameters<typeof upgrade>[0], next)) as never;
  });
}
