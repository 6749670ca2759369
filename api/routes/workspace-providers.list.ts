import { createRoute, z } from '@hono/zod-openapi';
import { CLOUD_PROVIDERS } from '../../bot/settings.js';
import type { Config } from '../../lib/config.js';
import type { DbOrTx } from '../../lib/db/index.js';
import { environmentKey, storedProviderKeys } from '../../lib/provider-keys.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';

export const ProviderSchema = z
  .object({
    provider: z.enum(CLOUD_PROVIDERS),
    configured: z.boolean().openapi({ description: 'A key is available: the workspace’s own, or the server’s from the environment' }),
    source: z.enum(['workspace', 'environment']).nullable(),
    last4: z.string().nullable().openapi({ description: 'The last four characters of the workspace’s key (never the key itself); null for an environment key' }),
    updated_at: z.string().nullable(),
  })
  .openapi('TranscriptionProviderKey');
export type ProviderJson = z.infer<typeof ProviderSchema>;

/** Every cloud provider and whether the workspace can use it (no key is ever shown). */
export async function providersJson(db: DbOrTx, config: Config, workspaceId: string): Promise<ProviderJson[]> {
  const stored = await storedProviderKeys(db, workspaceId);
  return CLOUD_PROVIDERS.map((provider) => {
    const own = stored.get(provider);
    if (own) return { provider, configured: true, source: 'workspace' as const, last4: own.last4, updated_at: own.updatedAt.toISOString() };
    const env = Boolean(environmentKey(config, provider));
    return { provider, configured: env, source: env ? ('environment' as const) : null, last4: null, updated_at: null };
  });
}

export const route = createRoute({
  method: 'get',
  path: '/v1/workspace/providers',
  operationId: 'workspace.providers.list',
  tags: ['workspace'],
  summary: 'Cloud transcription providers and whether a key is configured (keys are never returned)',
  security: [{ bearer: [] }],
  responses: { 200: jsonResponse(z.object({ data: z.array(ProviderSchema) }), 'One entry per provider'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, config } = c.var.services;
    return c.json({ data: await providersJson(db, config, c.var.principal.workspaceId) }, 200);
  });
}
