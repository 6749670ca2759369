import { createRoute } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { workspaces } from '../../lib/db/schema.js';
import { providerKey } from '../../lib/provider-keys.js';
import { requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { errorResponses, providerNotConfigured } from '../errors.js';
import { jsonBody, jsonResponse } from '../schemas.js';
import { WorkspaceSettingsSchema, workspaceSettings } from './workspace-settings.get.js';

const Body = WorkspaceSettingsSchema.partial().strict().openapi('PutWorkspaceSettingsRequest');

export const route = createRoute({
  method: 'put',
  path: '/v1/workspace/settings',
  operationId: 'workspace.settings.put',
  tags: ['workspace'],
  summary: "Change the workspace's settings (owners and admins)",
  security: [{ bearer: [] }],
  request: { body: jsonBody(Body) },
  responses: { 200: jsonResponse(WorkspaceSettingsSchema, 'The settings now'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const user = requireUserRole(c, ['owner', 'admin']);
    const body = c.req.valid('json');
    const { db, secrets, config } = c.var.services;
    const provider = body.default_transcription_provider;
    if (provider) {
      if (provider !== 'local' && !(await providerKey({ db, secrets, config }, user.workspaceId, provider))) throw providerNotConfigured(provider);
      await db.update(workspaces).set({ defaultTranscriptionProvider: provider }).where(eq(workspaces.id, user.workspaceId));
    }
    return c.json(await workspaceSettings(db, user.workspaceId), 200);
  });
}
