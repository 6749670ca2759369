import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { TRANSCRIPTION_PROVIDERS } from '../../bot/settings.js';
import type { DbOrTx } from '../../lib/db/index.js';
import { workspaces } from '../../lib/db/schema.js';
import type { Router } from '../context.js';
import { errorResponses, notFound } from '../errors.js';
import { jsonResponse } from '../schemas.js';

export const WorkspaceSettingsSchema = z
  .object({
    default_transcription_provider: z.enum(TRANSCRIPTION_PROVIDERS).openapi({ description: 'Used for bots whose `transcription.provider` is omitted' }),
  })
  .openapi('WorkspaceSettings');

export async function workspaceSettings(db: DbOrTx, workspaceId: string): Promise<z.infer<typeof WorkspaceSettingsSchema>> {
  const [ws] = await db.select({ provider: workspaces.defaultTranscriptionProvider }).from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!ws) throw notFound('workspace');
  return { default_transcription_provider: ws.provider };
}

export const route = createRoute({
  method: 'get',
  path: '/v1/workspace/settings',
  operationId: 'workspace.settings.get',
  tags: ['workspace'],
  summary: "The workspace's settings",
  security: [{ bearer: [] }],
  responses: { 200: jsonResponse(WorkspaceSettingsSchema, 'Settings'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => c.json(await workspaceSettings(c.var.services.db, c.var.principal.workspaceId), 200));
}
