import { createRoute, z } from '@hono/zod-openapi';
import { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { recordings } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { parseRange } from '../formats/range.js';
import { IdParamSchema } from '../schemas.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/recording',
  operationId: 'bots.recording',
  tags: ['bots'],
  summary: 'The recording (Ogg Opus); supports HTTP Range',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: {
    200: { description: 'The whole file', content: { 'audio/ogg': { schema: z.string().openapi({ format: 'binary' }) } } },
    206: { description: 'The requested range', content: { 'audio/ogg': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses,
  },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, store } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const [rec] = await db.select().from(recordings).where(eq(recordings.botId, bot.id));
    if (!rec || rec.status === 'deleted') throw new ApiError('not_found', 'this bot has no recording');
    if (rec.status !== 'ready' || !rec.storageKey) throw new ApiError('not_ready', `the recording is ${rec.status}; it is ready when the bot is done`);
    const stat = await store.stat(rec.storageKey);
    if (!stat) throw new ApiError('not_found', 'the recording file is missing');
    const size = stat.sizeBytes;
    const headers: Record<string, string> = {
      'Content-Type': rec.contentType ?? 'audio/ogg',
      'Accept-Ranges': 'bytes',
      'Content-Disposition': `inline; filename="${bot.id}.ogg"`,
      'Cache-Control': 'private, max-age=0',
      ETag: `"${bot.id}-${size}"`,
    };
    const header = c.req.header('range');
    const range = header ? parseRange(header, size) : null;
    if (range === 'unsatisfiable') {
      throw new ApiError('range_not_satisfiable', `range outside 0-${size - 1}`, undefined, { 'Content-Range': `bytes */${size}` });
    }
    // Hono answers HEAD by running this GET handler and dropping the body: a stream opened for
    // it would never be read or closed (one leaked file descriptor per HEAD).
    const head = c.req.method === 'HEAD';
    if (range) {
      const partial = { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${size}`, 'Content-Length': String(range.end - range.start + 1) };
      if (head) return c.body(null, 206, partial);
      const stream = Readable.toWeb(store.read(rec.storageKey, range) as Readable) as ReadableStream;
      return c.body(stream, 206, partial);
    }
    if (head) return c.body(null, 200, { ...headers, 'Content-Length': String(size) });
    const stream = Readable.toWeb(store.read(rec.storageKey) as Readable) as ReadableStream;
    return c.body(stream, 200, { ...headers, 'Content-Length': String(size) });
  });
}
