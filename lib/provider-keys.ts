/**
 * Cloud provider keys (AssemblyAI, OpenAI): a workspace's own key (BYOK), sealed at rest with
 * SecretBox (AES-256-GCM, bound to its workspace and provider), or else the operator's key
 * from the environment. Keys leave this module only as the plaintext a client SDK needs; the
 * API shows whether one is configured and its last four characters, never the key.
 */
import { and, eq } from 'drizzle-orm';
import type { Config } from './config.js';
import type { DbOrTx } from './db/index.js';
import { workspaceProviderKeys } from './db/schema.js';
import type { SecretBox } from './secrets.js';

export type KeyedProvider = 'assemblyai' | 'openai';

export interface ProviderKeyDeps {
  db: DbOrTx;
  secrets: SecretBox;
  config: Pick<Config, 'ASSEMBLYAI_API_KEY' | 'OPENAI_API_KEY'>;
}

export interface ProviderKey {
  apiKey: string;
  source: 'workspace' | 'environment';
}

const aad = (workspaceId: string, provider: KeyedProvider) => `provider-key:${workspaceId}:${provider}`;

export function environmentKey(config: ProviderKeyDeps['config'], provider: KeyedProvider): string | undefined {
  return provider === 'assemblyai' ? config.ASSEMBLYAI_API_KEY : config.OPENAI_API_KEY;
}

/**
 * The key to call `provider` with for `workspaceId`: the workspace's own, else the
 * environment's (ASSEMBLYAI_API_KEY / OPENAI_API_KEY), else null (the feature is off).
 */
export async function providerKey(deps: ProviderKeyDeps, workspaceId: string, provider: KeyedProvider): Promise<ProviderKey | null> {
  const [row] = await deps.db
    .select({ keySealed: workspaceProviderKeys.keySealed })
    .from(workspaceProviderKeys)
    .where(and(eq(workspaceProviderKeys.workspaceId, workspaceId), eq(workspaceProviderKeys.provider, provider)));
  if (row) return { apiKey: deps.secrets.decrypt(row.keySealed, aad(workspaceId, provider)), source: 'workspace' };
  const env = environmentKey(deps.config, provider);
  return env ? { apiKey: env, source: 'environment' } : null;
}

/** Stores (or replaces) a workspace's key, sealed. */
export async function storeProviderKey(
  deps: Omit<ProviderKeyDeps, 'config'>,
  opts: { workspaceId: string; provider: KeyedProvider; apiKey: string; userId: string | null },
): Promise<{ last4: string; updatedAt: Date }> {
  const values = {
    keySealed: deps.secrets.encrypt(opts.apiKey, aad(opts.workspaceId, opts.provider)),
    last4: opts.apiKey.slice(-4),
    updatedBy: opts.userId,
    updatedAt: new Date(),
  };
  const [row] = await deps.db
    .insert(workspaceProviderKeys)
    .values({ workspaceId: opts.workspaceId, provider: opts.provider, ...values })
    .onConflictDoUpdate({ target: [workspaceProviderKeys.workspaceId, workspaceProviderKeys.provider], set: values })
    .returning({ last4: workspaceProviderKeys.last4, updatedAt: workspaceProviderKeys.updatedAt });
  return row!;
}

/** Removes a workspace's key; false when it had none. */
export async function deleteProviderKey(db: DbOrTx, workspaceId: string, provider: KeyedProvider): Promise<boolean> {
  const gone = await db
    .delete(workspaceProviderKeys)
    .where(and(eq(workspaceProviderKeys.workspaceId, workspaceId), eq(workspaceProviderKeys.provider, provider)))
    .returning({ provider: workspaceProviderKeys.provider });
  return gone.length > 0;
}

/** What a workspace has stored (no keys, only their last four characters). */
export async function storedProviderKeys(db: DbOrTx, workspaceId: string): Promise<Map<KeyedProvider, { last4: string; updatedAt: Date }>> {
  const rows = await db
    .select({ provider: workspaceProviderKeys.provider, last4: workspaceProviderKeys.last4, updatedAt: workspaceProviderKeys.updatedAt })
    .from(workspaceProviderKeys)
    .where(eq(workspaceProviderKeys.workspaceId, workspaceId));
  return new Map(rows.map((r) => [r.provider, { last4: r.last4, updatedAt: r.updatedAt }]));
}
