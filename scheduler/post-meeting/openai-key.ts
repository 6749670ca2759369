/**
 * THE one place the summariser's OpenAI key comes from. Today: the operator's OPENAI_API_KEY.
 * Per-workspace keys (BYOK, sealed with SecretBox) are re-pointed here, and nowhere else.
 */
import type { Config } from '../../lib/config.js';
import type { Db } from '../../lib/db/index.js';
import type { SecretBox } from '../../lib/secrets.js';

export interface OpenAiKeyContext {
  config: Config;
  db: Db;
  secrets: SecretBox;
}

/** The key to summarise this workspace's meetings with, or null for the offline summariser. */
export async function openAiKeyFor(ctx: OpenAiKeyContext, _workspaceId: string): Promise<string | null> {
  return ctx.config.OPENAI_API_KEY ?? null;
}
