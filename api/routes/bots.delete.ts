import { createRoute } from '@hono/zod-openapi';
import { isLive, type StatusCode } from '../../bot/status.js';
import { TransactionRollbackError } from 'drizzle-orm';
import { cancelBotJobs, deleteScheduledBot } from '../../scheduler/bot-scheduling.js';
import { optOutCalendarEvents } from '../../scheduler/calendar/reconcile.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { IdParamSchema } from '../schemas.js';

export const route = createRoute({
  method: 'delete',
  path: '/v1/bots/{id}',
  operationId: 'bots.delete',
  tags: ['bots'],
  summary: 'Cancel a bot that has not started joining (a calendar bot: its calendar events are set to record: false)',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Cancelled and removed' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, bots: dispatcher } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    // Only a bot still `scheduled` can go; the status check in the delete closes the race with a worker picking it up.
    // A calendar bot's events are switched off in the same transaction, or the next sync would send it again.
    const deleted = await db.transaction(async (tx) => {
      await optOutCalendarEvents(tx, bot.id);
      const gone = await deleteScheduledBot(tx, bot.id);
      if (!gone) tx.rollback();
      return gone;
    }).catch((err) => {
      if (err instanceof TransactionRollbackError) return false as const;
      throw err;
    });
    if (!deleted) {
      // `bot` was read before the delete: still `scheduled` there means a worker has just picked it up.
      const message =
        bot.status === 'scheduled' || isLive(bot.status as StatusCode)
          ? 'the bot has started joining; use POST /v1/bots/{id}/leave to make it leave the call'
          : `the bot is ${bot.status}; only a scheduled bot can be cancelled (DELETE /v1/bots/{id}/data deletes what it recorded)`;
      throw new ApiError('invalid_state', message);
    }
    await cancelBotJobs(dispatcher, [deleted.jobId]);
    return c.body(null, 204);
  });
}
