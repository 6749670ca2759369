import { createRoute, z } from '@hono/zod-openapi';
import { CLOUD_PROVIDERS } from '../../bot/settings.js';
import { auditEvents } from '../../lib/db/schema.js';
import { inTransaction } from '../../lib/db/transaction.js';
import { newId } from '../../lib/ids.js';
import { storeProviderKey } from '../../lib/provider-keys.js';
import { requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { jsonBody, jsonResponse } from '../schemas.js';
import { ProviderSchema, providersJson } from './workspace-providers.list.js';

export const ProviderParamSchema = z.object({
  provider: z.enum(CLOUD_PROVIDERS).openapi({ param: { name: 'provider', in: 'path' }, example: 'assemblyai' }),
});

const Body = z
  .object({
    api_key: z
      .string()
      .min(8, 'too short to be an API key')
      .max(512)
      .regex(/^[\x21-\x7e]+$/, 'an API key is printable ASCII without spaces')
      .openapi({ description: 'The provider’s API key; stored encrypted, never shown again (only its last four characters)' }),
  })
  .strict()
  .openapi('PutProviderKeyRequest');

export const route = createRoute({
  method: 'put',
  path: '/v1/workspace/providers/{provider}',
  operationId: 'workspace.providers.put',
  tags: ['workspace'],
  summary: 'Store the workspace’s own key for a cloud provider (owners and admins)',
  security: [{ bearer: [] }],
  request: { params: ProviderParamSchema, body: jsonBody(Body) },
  responses: { 200: jsonResponse(ProviderSchema, 'The provider, configured'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const user = requireUserRole(c, ['owner', 'admin']);
    const { provider } = c.req.valid('param');
    const { api_key: apiKey } = c.req.valid('json');
    const { database, db, secrets, config } = c.var.services;
    await inTransaction(database, async (tx) => {
      await storeProviderKey({ db: tx, secrets }, { workspaceId: user.workspaceId, provider, apiKey, userId: user.userId });
      await tx.insert(auditEvents).values({
        id: newId('aud'),
        workspaceId: user.workspaceId,
        actorType: 'user',
        actorId: user.userId,
        action: 'workspace.provider_key_set',
        targetType: 'provider',
        targetId: provider,
        details: { last4: apiKey.slice(-4) },
      });
    });
    const all = await providersJson(db, config, user.workspaceId);
    return c.json(all.find((p) => p.provider === provider)!, 200);
  });
}
