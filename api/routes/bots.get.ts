import { createRoute } from '@hono/zod-openapi';
import { botJson, BotSchema, loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}',
  operationId: 'bots.get',
  tags: ['bots'],
  summary: 'One bot, with its status history, participants, recording and debug artifacts',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 200: jsonResponse(BotSchema, 'The bot'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, config } = c.var.services;
    const row = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    return c.json(await botJson(db, row, config.PUBLIC_URL), 200);
  });
}
