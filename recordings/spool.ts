/**
 * Finalizing: every part of a bot's recording (recordings/parts.ts), from the store and this
 * machine's spool, laid out on the recording's clock and joined into the one file in the
 * RecordingStore. Any worker can do it, whichever workers recorded the parts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../lib/log.js';
import { concatSegments } from './finalize.js';
import { layOutParts, listParts, partsPrefix, segmentFiles } from './parts.js';
import type { RecordingStore } from './store.js';

export const RECORDING_CONTENT_TYPE = 'audio/ogg';
export const recordingKey = (botId: string) => `bots/${botId}/recording.ogg`;

export interface FinalizedRecording {
  recording: { status: 'ready' | 'failed'; storageKey?: string; contentType?: string; durationMs?: number; sizeBytes?: number };
  /** The joined file, until cleanup() removes it. */
  localFile: string;
  /** Removes the joined file and the downloads. */
  cleanup(): Promise<void>;
  /** Removes the parts (store and spool). Call once the recording row points at the final file; until then they are what a retry would finalize from. */
  discardParts(): Promise<void>;
}

/** Joins every part into the final recording; null when nothing was recorded. */
export async function finalizeRecording(opts: { botId: string; spool: string; store: RecordingStore; log: Logger }): Promise<FinalizedRecording | null> {
  const parts = await listParts({ botId: opts.botId, store: opts.store, spool: opts.spool });
  if (!parts.some((p) => p.segments.length)) return null;
  const work = await mkdtemp(path.join(tmpdir(), 'notula-final-'));
  const localFile = path.join(work, 'recording.ogg');
  const cleanup = async () => {
    await rm(work, { recursive: true, force: true });
  };
  try {
    const files = await segmentFiles(parts, opts.store, work, opts.log);
    const laidOut = await layOutParts(parts, files, { workDir: work, log: opts.log, withEnd: false });
    const { durationMs } = await concatSegments(laidOut.files, localFile, { log: opts.log });
    const key = recordingKey(opts.botId);
    const { sizeBytes } = await opts.store.put(key, localFile);
    return {
      recording: { status: 'ready', storageKey: key, contentType: RECORDING_CONTENT_TYPE, durationMs, sizeBytes },
      localFile,
      cleanup,
      discardParts: async () => {
        await opts.store.deleteTree(partsPrefix(opts.botId));
        await rm(opts.spool, { recursive: true, force: true });
      },
    };
  } catch (err) {
    opts.log.error({ err, parts: parts.length }, 'recording could not be finalized; its parts are kept');
    return { recording: { status: 'failed' }, localFile, cleanup, discardParts: async () => undefined };
  }
}
