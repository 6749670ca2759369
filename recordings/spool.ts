/**
 * The spool: where a bot's recording is written while it records (DATA_DIR/spool/<bot id>),
 * one part directory per capture (a rejoin after a lost worker starts a new part), each a
 * sequence of short Opus segments. Finalizing joins every part into one file in the
 * RecordingStore; a crash loses at most the segment being written.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../lib/log.js';
import { concatSegments, probeDurationMs } from './finalize.js';
import type { RecordingStore } from './store.js';

export const RECORDING_CONTENT_TYPE = 'audio/ogg';
export const recordingKey = (botId: string) => `bots/${botId}/recording.ogg`;

export async function partDirs(botSpool: string): Promise<string[]> {
  const entries = await readdir(botSpool, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && /^part-\d+$/.test(e.name))
    .map((e) => path.join(botSpool, e.name))
    .sort();
}

export async function spoolSegments(botSpool: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of await partDirs(botSpool)) {
    const files = (await readdir(dir)).filter((f) => /^seg-\d+\.ogg$/.test(f)).sort();
    for (const f of files) {
      const full = path.join(dir, f);
      if ((await stat(full)).size > 0) out.push(full);
    }
  }
  return out;
}

/** Duration of everything spooled so far (the time offset for the next part). */
export async function spoolDuration(botSpool: string): Promise<number> {
  let total = 0;
  for (const seg of await spoolSegments(botSpool)) total += await probeDurationMs(seg).catch(() => 0);
  return total;
}

export interface FinalizedRecording {
  recording: { status: 'ready' | 'failed'; storageKey?: string; contentType?: string; durationMs?: number; sizeBytes?: number };
  /** The joined file, until cleanup() removes it with the spool. */
  localFile: string;
  cleanup(): Promise<void>;
}

/** Joins the spool into the final recording; null when nothing was recorded. */
export async function finalizeRecording(opts: { botId: string; spool: string; store: RecordingStore; log: Logger }): Promise<FinalizedRecording | null> {
  const segments = await spoolSegments(opts.spool);
  if (segments.length === 0) return null;
  const work = await mkdtemp(path.join(tmpdir(), 'notula-final-'));
  const localFile = path.join(work, 'recording.ogg');
  const cleanup = async () => {
    await rm(work, { recursive: true, force: true });
  };
  try {
    const { durationMs } = await concatSegments(segments, localFile);
    const key = recordingKey(opts.botId);
    const { sizeBytes } = await opts.store.put(key, localFile);
    return {
      recording: { status: 'ready', storageKey: key, contentType: RECORDING_CONTENT_TYPE, durationMs, sizeBytes },
      localFile,
      cleanup: async () => {
        await cleanup();
        // Only now is the spool redundant.
        await rm(opts.spool, { recursive: true, force: true });
      },
    };
  } catch (err) {
    opts.log.error({ err, segments: segments.length }, 'recording could not be finalized; the spool is kept');
    return { recording: { status: 'failed' }, localFile, cleanup };
  }
}
