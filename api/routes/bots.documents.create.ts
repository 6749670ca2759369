import { createRoute, z } from '@hono/zod-openapi';
import { count, eq } from 'drizzle-orm';
import { bodyLimit } from 'hono/body-limit';
import type { MiddlewareHandler } from 'hono';
import { meetingDocumentChunks, meetingDocuments } from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import { CONTENT_TYPES, extractDocument, toPassages } from '../../recordings/documents/extract-text.js';
import { loadBot } from '../bot-view.js';
import type { AppEnv, Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { actorOf, documentJson, DocumentSchema } from '../meeting-view.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

/** Documents one meeting holds. */
export const MAX_DOCUMENTS_PER_MEETING = 20;
/** Room for the multipart envelope around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

const limitUpload: MiddlewareHandler<AppEnv> = (c, next) => {
  const max = c.var.services.config.DOCUMENT_MAX_BYTES;
  return bodyLimit({
    maxSize: max + MULTIPART_OVERHEAD,
    onError: () => {
      throw new ApiError('payload_too_large', `documents are at most ${max} bytes`);
    },
  })(c, next);
};

const UploadSchema = z.object({
  file: z
    .custom<File>((v) => v instanceof File, { message: 'expected a file in the "file" field' })
    .openapi({ type: 'string', format: 'binary', description: 'PDF, DOCX, TXT or MD; the type is read from the bytes' }),
});

export const route = createRoute({
  method: 'post',
  path: '/v1/bots/{id}/documents',
  operationId: 'bots.documents.create',
  tags: ['documents'],
  summary: 'Attach a document (PDF, DOCX, TXT, MD) to a meeting: its text becomes summary context and searchable',
  security: [{ bearer: [] }],
  middleware: [limitUpload] as const,
  request: { params: IdParamSchema, body: { required: true, content: { 'multipart/form-data': { schema: UploadSchema } } } },
  responses: { 201: jsonResponse(DocumentSchema, 'The stored document'), ...errorResponses },
});

/** The name without any path, control characters or excess length. */
export function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f"]/g, '').trim().slice(0, 200);
  return clean || 'document';
}

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, store, config } = c.var.services;
    const principal = c.var.principal;
    const bot = await loadBot(db, principal.workspaceId, c.req.valid('param').id);
    const { file } = c.req.valid('form');
    if (file.size > config.DOCUMENT_MAX_BYTES) throw new ApiError('payload_too_large', `documents are at most ${config.DOCUMENT_MAX_BYTES} bytes`);
    const [{ n }] = (await db.select({ n: count() }).from(meetingDocuments).where(eq(meetingDocuments.botId, bot.id))) as [{ n: number }];
    if (n >= MAX_DOCUMENTS_PER_MEETING) throw new ApiError('conflict', `a meeting holds at most ${MAX_DOCUMENTS_PER_MEETING} documents; delete one first`);

    const bytes = Buffer.from(await file.arrayBuffer());
    const filename = cleanFilename(file.name);
    const extracted = await extractDocument(bytes, filename, { maxChars: config.DOCUMENT_MAX_TEXT_CHARS });
    if (!extracted.ok) throw new ApiError(extracted.status === 415 ? 'unsupported_media_type' : 'invalid_document', extracted.message);

    const id = newId('doc');
    const storageKey = `bots/${bot.id}/documents/${id}`;
    await store.putBytes(storageKey, bytes);
    const author = actorOf(principal);
    try {
      const row = await db.transaction(async (tx) => {
        const [saved] = await tx
          .insert(meetingDocuments)
          .values({
            id,
            botId: bot.id,
            filename,
            kind: extracted.kind,
            contentType: CONTENT_TYPES[extracted.kind],
            sizeBytes: bytes.length,
            storageKey,
            pages: extracted.pages,
            textChars: extracted.textChars,
            truncated: extracted.truncated,
            createdByType: author.type,
            createdById: author.id,
          })
          .returning();
        const passages = toPassages(extracted.parts);
        for (let i = 0; i < passages.length; i += 500) {
          await tx.insert(meetingDocumentChunks).values(passages.slice(i, i + 500).map((p, k) => ({ documentId: id, seq: i + k, page: p.page, text: p.text })));
        }
        return saved!;
      });
      return c.json(documentJson(row, config.PUBLIC_URL), 201);
    } catch (err) {
      await store.deleteTree(storageKey).catch(() => undefined);
      throw err;
    }
  });
}
