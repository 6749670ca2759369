import { createRoute } from '@hono/zod-openapi';
import { Readable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { debugArtifacts } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/debug/{artifactId}',
  operationId: 'bots.debugArtifact',
  tags: ['bots'],
  summary: 'A screenshot or page HTML saved when a join failed or the bot ended fatal (listed on the bot as `debug`)',
  security: [{ bearer: [] }],
  request: {
    params: z.object({
      id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' } }),
      artifactId: z.string().min(1).max(64).openapi({ param: { name: 'artifactId', in: 'path' } }),
    }),
  },
  responses: {
    200: {
      description: 'The artifact',
      content: { 'image/png': { schema: z.string().openapi({ format: 'binary' }) }, 'text/html': { schema: z.string() } },
    },
    ...errorResponses,
  },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, store } = c.var.services;
    const { id, artifactId } = c.req.valid('param');
    const bot = await loadBot(db, c.var.principal.workspaceId, id);
    const [a] = await db.select().from(debugArtifacts).where(and(eq(debugArtifacts.id, artifactId), eq(debugArtifacts.botId, bot.id)));
    if (!a || !(await store.stat(a.storageKey))) throw new ApiError('not_found', 'debug artifact not found');
    // Saved HTML is the meeting platform's page: never let a browser run it on our origin.
    const headers = {
      'Content-Type': a.contentType,
      'Content-Security-Policy': "sandbox; default-src 'none'",
      'Content-Disposition': `${a.kind === 'html' ? 'attachment' : 'inline'}; filename="${a.id}.${a.kind === 'html' ? 'html' : 'png'}"`,
    };
    // HEAD runs this handler and drops the body; don't open a file nobody will read or close.
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    const stream = Readable.toWeb(store.read(a.storageKey) as Readable) as ReadableStream;
    return c.body(stream, 200, headers);
  });
}
