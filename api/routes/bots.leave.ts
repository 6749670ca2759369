import { createRoute } from '@hono/zod-openapi';
import { and, eq, inArray } from 'drizzle-orm';
import { bots } from '../../lib/db/schema.js';
import { inTransaction } from '../../lib/db/transaction.js';
import { isLive, type StatusCode } from '../../bot/status.js';
import { botJson, BotSchema, loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

const LIVE: StatusCode[] = ['joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording'];

export const route = createRoute({
  method: 'post',
  path: '/v1/bots/{id}/leave',
  operationId: 'bots.leave',
  tags: ['bots'],
  summary: 'Ask a bot that is joining or in a call to leave (it ends call_ended left_by_request)',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 202: jsonResponse(BotSchema, 'The bot will leave within a few seconds'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { database, db, bots: dispatcher, config } = c.var.services;
    const workspaceId = c.var.principal.workspaceId;
    const bot = await loadBot(db, workspaceId, c.req.valid('param').id);
    if (!isLive(bot.status as StatusCode)) {
      const hint = bot.status === 'scheduled' ? 'it has not started joining; DELETE /v1/bots/{id} cancels it' : `it is already ${bot.status}`;
      throw new ApiError('invalid_state', `the bot is not in a call: ${hint}`);
    }
    await inTransaction(database, async (tx, sql) => {
      await tx
        .update(bots)
        .set({ leaveRequestedAt: new Date() })
        .where(and(eq(bots.id, bot.id), inArray(bots.status, LIVE)));
      await dispatcher.poke(sql, bot.id);
    });
    return c.json(await botJson(db, await loadBot(db, workspaceId, bot.id), config.PUBLIC_URL), 202);
  });
}
