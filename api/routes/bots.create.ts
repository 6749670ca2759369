import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { AutomaticLeaveSchema, RecordingNoticeSchema, TranscriptionRequestSchema, transcriptionLanguageProblem } from '../../bot/settings.js';
import { workspaces } from '../../lib/db/schema.js';
import { inTransaction } from '../../lib/db/transaction.js';
import { parseMeetingUrl } from '../../lib/meeting-url.js';
import { providerKey } from '../../lib/provider-keys.js';
import { insertScheduledBot } from '../../scheduler/bot-scheduling.js';
import { botJson, BotSchema, loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses, providerNotConfigured } from '../errors.js';
import { findUnstorable } from '../input-guard.js';
import { jsonBody, jsonResponse } from '../schemas.js';

const MAX_METADATA_BYTES = 16 * 1024;
const MAX_METADATA_DEPTH = 16;
const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600 * 1000;

export const CreateBotBody = z
  .object({
    meeting_url: z.string().trim().min(1).max(4096).openapi({ example: 'https://meet.google.com/abc-defg-hij' }),
    bot_name: z.string().trim().min(1).max(100).default('Notula Notetaker'),
    join_at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'When to join; omitted or past means now' }),
    transcription: TranscriptionRequestSchema.default({ language: 'en' }).openapi({
      description: '`provider`: local (offline), assemblyai or openai (the workspace needs a key); omitted: the workspace default',
    }),
    automatic_leave: AutomaticLeaveSchema.default(AutomaticLeaveSchema.parse({})),
    recording_notice: RecordingNoticeSchema.default(RecordingNoticeSchema.parse({})).openapi({
      description: 'Chat message posted when the bot is admitted; `{"enabled": false}` turns it off',
    }),
    metadata: z
      .record(z.string().max(100), z.unknown())
      .default({})
      .superRefine((m, ctx) => {
        if (Object.keys(m).length > 50) ctx.addIssue({ code: 'custom', message: 'at most 50 keys' });
        // Depth first: JSON.stringify of deeply nested input overflows the stack.
        const problem = findUnstorable(m, MAX_METADATA_DEPTH);
        if (problem) ctx.addIssue({ code: 'custom', message: `${problem.path}: ${problem.message}` });
        else if (Buffer.byteLength(JSON.stringify(m)) > MAX_METADATA_BYTES) ctx.addIssue({ code: 'custom', message: `at most ${MAX_METADATA_BYTES} bytes of JSON` });
      }),
  })
  .strict()
  .openapi('CreateBotRequest');

export const route = createRoute({
  method: 'post',
  path: '/v1/bots',
  operationId: 'bots.create',
  tags: ['bots'],
  summary: 'Send a bot to a meeting, now or at join_at',
  security: [{ bearer: [] }],
  request: { body: jsonBody(CreateBotBody) },
  responses: { 201: jsonResponse(BotSchema, 'The scheduled bot'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { database, db, bots: dispatcher, config } = c.var.services;
    const body = c.req.valid('json');
    const parsed = parseMeetingUrl(body.meeting_url);
    if (!parsed.ok) throw new ApiError('invalid_meeting_url', parsed.reason);
    const now = Date.now();
    const requested = body.join_at ? Date.parse(body.join_at) : now;
    if (requested - now > MAX_SCHEDULE_AHEAD_MS) throw new ApiError('validation_failed', 'join_at: at most a year ahead', [{ path: 'join_at', message: 'at most a year ahead' }]);
    const joinAt = new Date(Math.max(requested, now));
    const transcription = await resolveTranscription(c.var.services, c.var.principal.workspaceId, body.transcription);
    const id = await inTransaction(database, (tx, sql) =>
      insertScheduledBot(tx, sql, { dispatcher, config }, {
        workspaceId: c.var.principal.workspaceId,
        meetingUrl: body.meeting_url,
        meeting: parsed.meeting,
        botName: body.bot_name,
        joinAt,
        transcription,
        automaticLeave: body.automatic_leave,
        recordingNotice: body.recording_notice,
        metadata: body.metadata,
      }),
    );
    if (!id) throw new Error('a bot without a dedup key cannot conflict');
    const row = await loadBot(db, c.var.principal.workspaceId, id);
    return c.json(await botJson(db, row, config.PUBLIC_URL), 201);
  });
}

/** The request's transcription settings with the provider resolved (the workspace default when omitted) and usable. */
async function resolveTranscription(
  services: Parameters<typeof providerKey>[0],
  workspaceId: string,
  requested: { provider?: 'local' | 'assemblyai' | 'openai'; language: string },
): Promise<{ provider: 'local' | 'assemblyai' | 'openai'; language: string }> {
  let provider = requested.provider;
  if (!provider) {
    const [ws] = await services.db.select({ p: workspaces.defaultTranscriptionProvider }).from(workspaces).where(eq(workspaces.id, workspaceId));
    provider = ws?.p ?? 'local';
  }
  const problem = transcriptionLanguageProblem(provider, requested.language);
  if (problem) {
    const message = `transcription.language: ${problem}${requested.provider ? '' : ` (the workspace default provider is ${provider})`}`;
    throw new ApiError('validation_failed', message, [{ path: 'transcription.language', message: problem }]);
  }
  if (provider !== 'local' && !(await providerKey(services, workspaceId, provider))) throw providerNotConfigured(provider);
  return { provider, language: requested.language };
}
