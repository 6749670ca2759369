/**
 * Chooses how a meeting is summarised: OpenAI when the workspace has a key (openai-key.ts),
 * the offline summariser otherwise — and also whenever the OpenAI path fails, so a meeting
 * always gets a summary; the reason is kept with it.
 */
import type { Config } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import { summariseOffline } from './offline-summary.js';
import { openAiKeyFor, type OpenAiKeyContext } from './openai-key.js';
import { summariseWithOpenAi } from './openai-summary.js';
import type { SummaryContent, SummaryInput } from './summary-types.js';

export interface GeneratedSummary {
  content: SummaryContent;
  generator: 'openai' | 'offline';
  model: string | null;
  /** Why the offline summariser wrote it (no key, or what went wrong with OpenAI). */
  fallbackReason: string | null;
}

export async function generateSummary(ctx: OpenAiKeyContext & { config: Config; log: Logger }, workspaceId: string, input: SummaryInput): Promise<GeneratedSummary> {
  const apiKey = await openAiKeyFor(ctx, workspaceId);
  if (!apiKey) return { content: summariseOffline(input), generator: 'offline', model: null, fallbackReason: 'no OpenAI API key is configured' };
  try {
    const r = await summariseWithOpenAi(input, {
      apiKey,
      baseURL: ctx.config.OPENAI_BASE_URL,
      model: ctx.config.SUMMARY_OPENAI_MODEL,
      maxInputTokens: ctx.config.SUMMARY_MAX_INPUT_TOKENS,
      timeoutMs: ctx.config.SUMMARY_OPENAI_TIMEOUT_S * 1000,
      log: ctx.log,
    });
    return { content: r.content, generator: 'openai', model: r.model, fallbackReason: null };
  } catch (err) {
    const reason = (err as Error).message.slice(0, 500);
    ctx.log.warn({ err: reason, workspaceId }, 'OpenAI summary failed; using the offline summariser');
    return { content: summariseOffline(input), generator: 'offline', model: null, fallbackReason: reason };
  }
}
