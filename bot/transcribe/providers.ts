/**
 * Picks the Transcriber for a bot: `local` is the shared pocketsphinx engine; `assemblyai`
 * and `openai` are the cloud adapters with the workspace's key (or the environment's),
 * looked up when the session starts, and wrapped so the local engine takes over if the
 * provider fails mid-meeting.
 */
import type { Config } from '../../lib/config.js';
import type { Db } from '../../lib/db/index.js';
import type { Logger } from '../../lib/log.js';
import { providerKey, type KeyedProvider } from '../../lib/provider-keys.js';
import type { SecretBox } from '../../lib/secrets.js';
import type { BotRow } from '../bot-records.js';
import { TranscriptionSettingsSchema, type CloudProvider, type TranscriptionProvider } from '../settings.js';
import { AssemblyAiTranscriber } from './assemblyai.js';
import { OpenAiTranscriber } from './openai.js';
import type { Transcriber } from './transcriber.js';
import { withLocalFallback } from './with-fallback.js';

export interface TranscriberDeps {
  config: Config;
  db: Db;
  secrets: SecretBox;
  local: Transcriber;
  log: Logger;
}

export interface Transcribers {
  local: Transcriber;
  /** The transcriber a bot row asks for (cloud ones fall back to local mid-meeting). */
  forBot(bot: Pick<BotRow, 'workspaceId' | 'transcription'>): Transcriber;
  /** A cloud provider alone, without the fallback (the transcript redo job). */
  cloud(provider: CloudProvider, workspaceId: string, language: string): Transcriber;
}

export function providerOf(bot: Pick<BotRow, 'transcription'>): { provider: TranscriptionProvider; language: string } {
  const parsed = TranscriptionSettingsSchema.safeParse(bot.transcription);
  return parsed.success ? parsed.data : { provider: 'local', language: 'en' };
}

export function createTranscribers(deps: TranscriberDeps): Transcribers {
  const { config } = deps;
  const keyFor = (workspaceId: string, provider: KeyedProvider) => async () => {
    const key = await providerKey(deps, workspaceId, provider);
    if (!key) throw new Error(`the workspace has no ${provider} key and ${provider === 'assemblyai' ? 'ASSEMBLYAI_API_KEY' : 'OPENAI_API_KEY'} is not set`);
    return key.apiKey;
  };
  const cloud = (provider: CloudProvider, workspaceId: string, language: string): Transcriber => {
    const log = deps.log.child({ provider });
    if (provider === 'assemblyai') {
      return new AssemblyAiTranscriber({
        apiKey: keyFor(workspaceId, 'assemblyai'),
        baseUrl: config.ASSEMBLYAI_BASE_URL,
        streamingUrl: config.ASSEMBLYAI_STREAMING_URL,
        language,
        log,
      });
    }
    return new OpenAiTranscriber({ apiKey: keyFor(workspaceId, 'openai'), baseUrl: config.OPENAI_BASE_URL, model: config.OPENAI_TRANSCRIBE_MODEL, language, log });
  };
  return {
    local: deps.local,
    cloud,
    forBot(bot) {
      const { provider, language } = providerOf(bot);
      if (provider === 'local') return deps.local;
      return withLocalFallback(cloud(provider, bot.workspaceId, language), deps.local);
    },
  };
}
