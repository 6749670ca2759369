import { createRoute, z } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import { auditEvents, meetingSummaries } from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import { IsoDateSchema } from '../../scheduler/post-meeting/summary-types.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { actorOf, SummarySchema, summaryJson } from '../meeting-view.js';
import { IdParamSchema, jsonBody, jsonResponse } from '../schemas.js';

export const UpdateSummaryBody = z
  .object({
    summary: z.string().max(20_000),
    decisions: z.array(z.string().trim().min(1).max(2000)).max(200),
    action_items: z
      .array(
        z
          .object({
            text: z.string().trim().min(1).max(2000),
            owner: z.string().trim().min(1).max(200).nullable().optional(),
            due: IsoDateSchema.nullable().optional(),
          })
          .strict(),
      )
      .max(200),
    version: z.number().int().min(0).optional().openapi({ description: 'The version you edited; a newer one on the server answers 409' }),
  })
  .strict()
  .openapi('UpdateSummaryRequest');

export const route = createRoute({
  method: 'put',
  path: '/v1/bots/{id}/summary',
  operationId: 'bots.summary.update',
  tags: ['summaries'],
  summary: 'Replace the summary with an edited one (who edited it and when is kept)',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, body: jsonBody(UpdateSummaryBody) },
  responses: { 200: jsonResponse(SummarySchema, 'The edited summary'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db } = c.var.services;
    const principal = c.var.principal;
    const bot = await loadBot(db, principal.workspaceId, c.req.valid('param').id);
    const body = c.req.valid('json');
    const content = {
      summary: body.summary,
      decisions: body.decisions,
      action_items: body.action_items.map((a) => ({ text: a.text, owner: a.owner ?? null, due: a.due ?? null })),
    };
    const actor = actorOf(principal);
    const at = new Date();
    const row = await db.transaction(async (tx) => {
      const [current] = await tx.select().from(meetingSummaries).where(eq(meetingSummaries.botId, bot.id)).for('update');
      if (body.version !== undefined && (current?.version ?? 0) !== body.version) {
        throw new ApiError('conflict', `the summary changed since version ${body.version} (it is at ${current?.version ?? 0}); reload it and edit again`);
      }
      const set = { status: 'ready' as const, content, editedByType: actor.type, editedById: actor.id, editedAt: at, updatedAt: at };
      const [saved] = await tx
        .insert(meetingSummaries)
        .values({ botId: bot.id, ...set, version: 1 })
        .onConflictDoUpdate({ target: meetingSummaries.botId, set: { ...set, version: sql`${meetingSummaries.version} + 1` } })
        .returning();
      await tx.insert(auditEvents).values({
        id: newId('aud'),
        workspaceId: principal.workspaceId,
        actorType: actor.type,
        actorId: actor.id,
        action: 'summary.edited',
        targetType: 'bot',
        targetId: bot.id,
        details: { version: saved!.version, decisions: content.decisions.length, action_items: content.action_items.length },
      });
      return saved!;
    });
    return c.json(summaryJson(row), 200);
  });
}
