import { createRoute } from '@hono/zod-openapi';
import { auditEvents, workspaces } from '../../lib/db/schema.js';
import { inTransaction } from '../../lib/db/transaction.js';
import { newId } from '../../lib/ids.js';
import { deleteProviderKey, environmentKey } from '../../lib/provider-keys.js';
import { and, eq } from 'drizzle-orm';
import { requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses, notFound } from '../errors.js';
import { ProviderParamSchema } from './workspace-providers.put.js';

export const route = createRoute({
  method: 'delete',
  path: '/v1/workspace/providers/{provider}',
  operationId: 'workspace.providers.delete',
  tags: ['workspace'],
  summary: 'Remove the workspace’s key for a cloud provider (owners and admins)',
  security: [{ bearer: [] }],
  request: { params: ProviderParamSchema },
  responses: { 204: { description: 'Removed' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const user = requireUserRole(c, ['owner', 'admin']);
    const { provider } = c.req.valid('param');
    const { database, config } = c.var.services;
    await inTransaction(database, async (tx) => {
      // The workspace default must stay usable: without an environment key, it has to change first.
      const [ws] = await tx
        .select({ id: workspaces.id })
        .from(workspaces)
        .where(and(eq(workspaces.id, user.workspaceId), eq(workspaces.defaultTranscriptionProvider, provider)));
      if (ws && !environmentKey(config, provider)) {
        throw new ApiError('invalid_state', `${provider} is the workspace's default_transcription_provider; change it (PUT /v1/workspace/settings) before removing its key`);
      }
      if (!(await deleteProviderKey(tx, user.workspaceId, provider))) throw notFound(`${provider} key`);
      await tx.insert(auditEvents).values({
        id: newId('aud'),
        workspaceId: user.workspaceId,
        actorType: 'user',
        actorId: user.userId,
        action: 'workspace.provider_key_deleted',
        targetType: 'provider',
        targetId: provider,
      });
    });
    return c.body(null, 204);
  });
}
