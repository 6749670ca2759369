/**
 * The `transcript.redo` job: after a cloud transcriber failed mid-meeting (the live transcript
 * went on locally), transcribe the finished recording with that provider and replace the
 * transcript. While the provider still fails, the job throws and pg-boss retries it with
 * exponential backoff (it survives restarts: the job is a row); on its last attempt the
 * recording is transcribed with the local engine instead. The bot's status history gets an
 * entry saying which engine made the final transcript.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { eq } from 'drizzle-orm';
import type PgBoss from 'pg-boss';
import { BotRecords } from '../bot/bot-records.js';
import { attributedSegments } from '../bot/run-bot.js';
import type { CloudProvider } from '../bot/settings.js';
import { providerOf, type Transcribers } from '../bot/transcribe/providers.js';
import type { Utterance } from '../bot/transcribe/transcriber.js';
import type { Config } from '../lib/config.js';
import type { Db } from '../lib/db/index.js';
import { bots, recordings } from '../lib/db/schema.js';
import type { Logger } from '../lib/log.js';
import type { RecordingStore } from '../recordings/store.js';
import { parsePayload, QUEUES } from './queues.js';

export interface TranscriptRedoDeps {
  config: Pick<Config, 'TRANSCRIPT_REDO_RETRY_DELAY_S' | 'TRANSCRIPT_REDO_RETRY_LIMIT'>;
  db: Db;
  store: RecordingStore;
  transcribers: Transcribers;
  log: Logger;
}

/** Queues a redo (retry policy from the config). */
export async function scheduleTranscriptRedo(boss: PgBoss, config: TranscriptRedoDeps['config'], botId: string, provider: CloudProvider): Promise<void> {
  const data = QUEUES.transcriptRedo.payload.parse({ botId, provider });
  await boss.send(QUEUES.transcriptRedo.name, data, {
    retryLimit: config.TRANSCRIPT_REDO_RETRY_LIMIT,
    retryDelay: config.TRANSCRIPT_REDO_RETRY_DELAY_S,
    retryBackoff: true,
    expireInSeconds: QUEUES.transcriptRedo.options.expireInSeconds,
  });
}

export type RedoOutcome = 'redone' | 'redone_locally' | 'skipped';

/** One attempt; throws to have pg-boss retry. */
export async function redoTranscript(deps: TranscriptRedoDeps, job: PgBoss.JobWithMetadata<unknown>): Promise<RedoOutcome> {
  const { botId, provider } = parsePayload(QUEUES.transcriptRedo, job.data);
  const log = deps.log.child({ botId, provider, jobId: job.id, attempt: job.retryCount + 1 });
  const [bot] = await deps.db.select().from(bots).where(eq(bots.id, botId));
  const [rec] = await deps.db.select().from(recordings).where(eq(recordings.botId, botId));
  if (!bot || bot.dataDeletedAt || rec?.status !== 'ready' || !rec.storageKey) {
    log.info('nothing to redo: the bot, its recording or its data is gone');
    return 'skipped';
  }
  const records = new BotRecords(deps.db, botId, log);
  const dir = await mkdtemp(path.join(tmpdir(), 'notula-redo-'));
  try {
    const file = path.join(dir, path.basename(rec.storageKey));
    await pipeline(deps.store.read(rec.storageKey), createWriteStream(file));
    const { language } = providerOf(bot);
    let utterances: Utterance[];
    let outcome: RedoOutcome = 'redone';
    try {
      utterances = await deps.transcribers.cloud(provider, bot.workspaceId, language).transcribeFile(file);
    } catch (err) {
      const last = job.retryCount >= job.retryLimit;
      log.warn({ err: (err as Error).message, retryCount: job.retryCount, retryLimit: job.retryLimit }, last ? 'provider still failing; transcribing the recording locally' : 'provider still failing; will retry');
      if (!last) throw err;
      utterances = await deps.transcribers.local.transcribeFile(file);
      outcome = 'redone_locally';
      await records.noteStatus(`${provider} did not answer after ${job.retryCount + 1} attempts (${(err as Error).message.slice(0, 200)}); transcript redone from the recording with local`);
    }
    const turns = await records.speakerTurns();
    await records.replaceSegments(utterances.flatMap((u) => attributedSegments(u, turns)));
    if (outcome === 'redone') await records.noteStatus(`transcript redone from the recording with ${provider}`);
    if (!(await records.writes.drain(60_000))) throw new Error('could not store the redone transcript');
    log.info({ outcome, utterances: utterances.length }, 'transcript redone');
    return outcome;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Works the queue in this process (the bot role). */
export async function startTranscriptRedoWorker(boss: PgBoss, deps: TranscriptRedoDeps): Promise<void> {
  await boss.work(QUEUES.transcriptRedo.name, { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: 2 }, async ([job]) => {
    if (job) await redoTranscript(deps, job);
  });
}
