/**
 * A recording is written in parts: one per capture (a rejoin after a lost worker starts a new
 * one), each a sequence of short Opus segments. While a bot records, ffmpeg writes each
 * segment into the local spool (`DATA_DIR/spool/<bot>/part-NNNN/seg-NNNNN.ogg`) and, the
 * moment it closes one, the segment is copied to the RecordingStore
 * (`bots/<bot>/parts/part-NNNN/seg-NNNNN.ogg`). So any worker can finish a recording another
 * one started, even when that worker's disk went with it (a Kubernetes pod, a lost machine).
 *
 * Each part also stores where it starts on the recording's clock (`part.json`, `offsetMs`):
 * the clock of the transcript. A new part starts where the earlier ones end, and never before
 * the end of the transcript already stored, so transcript times never overlap; finalizing
 * lays the parts out on that clock and fills with silence whatever a lost worker took with it.
 *
 * What a lost worker costs: with its disk, the segment it was writing (at most 5 s); on the
 * same machine with the disk intact, nothing: the next attempt there ships the segments the
 * dead one had not, and finalizing uses the local copies.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../lib/log.js';
import { probeSegments, writeSilence } from './finalize.js';
import type { RecordingStore } from './store.js';

export const partsPrefix = (botId: string) => `bots/${botId}/parts`;
export const partName = (n: number) => `part-${String(n).padStart(4, '0')}`;
const PART_RE = /^part-(\d+)$/;
const SEGMENT_RE = /^seg-\d+\.ogg$/;
const MANIFEST = 'part.json';
/** Differences between a part's offset and the audio before it that are not worth a silent filler. */
const TOLERANCE_MS = 20;

export interface PartManifest {
  /** Where the part's first sample sits on the recording's (and the transcript's) clock. */
  offsetMs: number;
  startedAt: string;
}

export interface PartSegment {
  name: string;
  /** Its key in the store, once shipped. */
  key?: string;
  /** Its file in this machine's spool, if there. */
  local?: string;
}

export interface RecordingPartInfo {
  name: string;
  number: number;
  manifest: PartManifest | null;
  segments: PartSegment[];
}

/** Every part of a bot's recording, from the store and this machine's spool together, in order. */
export async function listParts(opts: { botId: string; store: RecordingStore; spool: string }): Promise<RecordingPartInfo[]> {
  const found = new Map<string, { manifestKey?: string; localManifest?: string; segments: Map<string, PartSegment> }>();
  const entry = (part: string) => {
    let e = found.get(part);
    if (!e) found.set(part, (e = { segments: new Map() }));
    return e;
  };
  const prefix = partsPrefix(opts.botId);
  for (const key of await opts.store.list(prefix)) {
    const [part, file, ...deeper] = key.slice(prefix.length + 1).split('/');
    if (!part || !file || deeper.length || !PART_RE.test(part)) continue;
    const e = entry(part);
    if (file === MANIFEST) e.manifestKey = key;
    else if (SEGMENT_RE.test(file)) e.segments.set(file, { ...e.segments.get(file), name: file, key });
  }
  for (const d of await readdir(opts.spool, { withFileTypes: true }).catch(() => [])) {
    if (!d.isDirectory() || !PART_RE.test(d.name)) continue;
    const e = entry(d.name);
    const dir = path.join(opts.spool, d.name);
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      const full = path.join(dir, f);
      if (f === MANIFEST) e.localManifest = full;
      else if (SEGMENT_RE.test(f) && ((await stat(full).catch(() => undefined))?.size ?? 0) > 0) {
        e.segments.set(f, { ...e.segments.get(f), name: f, local: full });
      }
    }
  }
  const parts: RecordingPartInfo[] = [];
  for (const [name, e] of found) {
    const manifest = await readManifest(opts.store, e.manifestKey, e.localManifest);
    const segments = [...e.segments.values()].sort((a, b) => a.name.localeCompare(b.name));
    parts.push({ name, number: Number(PART_RE.exec(name)![1]), manifest, segments });
  }
  return parts.sort((a, b) => a.number - b.number);
}

async function readManifest(store: RecordingStore, key: string | undefined, local: string | undefined): Promise<PartManifest | null> {
  const sources = [local ? () => readFile(local, 'utf8') : undefined, key ? () => text(store.read(key)) : undefined];
  for (const read of sources) {
    if (!read) continue;
    try {
      const m = JSON.parse(await read()) as Partial<PartManifest>;
      if (typeof m.offsetMs === 'number' && Number.isFinite(m.offsetMs) && m.offsetMs >= 0) return { offsetMs: m.offsetMs, startedAt: String(m.startedAt ?? '') };
    } catch {
      // try the other copy
    }
  }
  return null;
}

/** A local file for every segment of every part: this machine's copy if it has one, else a download into `workDir`. */
export async function segmentFiles(parts: RecordingPartInfo[], store: RecordingStore, workDir: string, log: Logger): Promise<string[][]> {
  const out: string[][] = [];
  for (const part of parts) {
    const files: string[] = [];
    for (const seg of part.segments) {
      if (seg.local && ((await stat(seg.local).catch(() => undefined))?.size ?? 0) > 0) {
        files.push(seg.local);
        continue;
      }
      if (!seg.key) continue;
      const dest = path.join(workDir, part.name, seg.name);
      await mkdir(path.dirname(dest), { recursive: true });
      try {
        await pipeline(store.read(seg.key), createWriteStream(dest));
        files.push(dest);
      } catch (err) {
        log.warn({ err, key: seg.key }, 'a recording segment could not be read from the store; leaving it out');
      }
    }
    out.push(files);
  }
  return out;
}

/**
 * The parts laid out on the recording's clock: each part's segments, preceded by silence
 * where its offset lies beyond the audio before it. `endMs` (which probes every part) is
 * where a new part would start; without `withEnd` the last part is not probed.
 */
export async function layOutParts(
  parts: RecordingPartInfo[],
  files: string[][],
  opts: { workDir: string; log: Logger; withEnd: boolean },
): Promise<{ files: string[]; endMs: number }> {
  const out: string[] = [];
  let cursor = 0;
  for (const [i, part] of parts.entries()) {
    const offset = part.manifest?.offsetMs;
    if (offset !== undefined && offset - cursor > TOLERANCE_MS) {
      const filler = path.join(opts.workDir, `silence-before-${part.name}.ogg`);
      await writeSilence(filler, offset - cursor);
      opts.log.warn({ part: part.name, missingMs: Math.round(offset - cursor) }, 'audio before this part is missing (a lost worker took it); filled with silence');
      out.push(filler);
      cursor = offset;
    } else if (offset !== undefined && cursor - offset > 250) {
      opts.log.warn({ part: part.name, lateMs: Math.round(cursor - offset) }, 'more audio before this part than when it started; its transcript times are early by this much');
    }
    const mine = files[i] ?? [];
    if (i < parts.length - 1 || opts.withEnd) {
      const probed = await probeSegments(mine, { log: opts.log });
      out.push(...probed.readable);
      cursor += probed.joinedMs;
    } else {
      out.push(...mine);
    }
  }
  return { files: out, endMs: cursor };
}

/** A part being recorded: where its segments go locally and how they get to the store. */
export interface RecordingPart {
  name: string;
  /** Local directory for the capture's segments. */
  dir: string;
  /** Where this part starts on the recording's clock: add it to every time measured in it. */
  offsetMs: number;
  /** Queues a finished segment of this part for the store (ordered, retried). */
  ship(file: string): void;
  /** Waits until everything queued is in the store; false after timeoutMs (the spool still has the rest). */
  drain(timeoutMs: number): Promise<boolean>;
  /** Stops retrying whatever is still queued. */
  close(): void;
}

/**
 * Starts the next part of a bot's recording: numbers it after every part in the store or the
 * spool, places it after their audio and after `minOffsetMs` (the end of the transcript
 * stored so far), stores its manifest, and ships what an earlier attempt on this machine
 * left unshipped.
 */
export async function openRecordingPart(opts: {
  botId: string;
  store: RecordingStore;
  /** DATA_DIR/spool */
  spoolDir: string;
  log: Logger;
  minOffsetMs: number;
}): Promise<RecordingPart> {
  const spool = path.join(opts.spoolDir, opts.botId);
  const prefix = partsPrefix(opts.botId);
  const parts = await listParts({ botId: opts.botId, store: opts.store, spool });
  const uploads = new StoreUploads(opts.store, opts.log);
  for (const p of parts) for (const s of p.segments) if (s.local && !s.key) uploads.put(`${prefix}/${p.name}/${s.name}`, s.local);

  let offsetMs = Math.max(0, Math.ceil(opts.minOffsetMs));
  if (parts.length) {
    const work = await mkdtemp(path.join(tmpdir(), 'notula-parts-'));
    try {
      const files = await segmentFiles(parts, opts.store, work, opts.log);
      const { endMs } = await layOutParts(parts, files, { workDir: work, log: opts.log, withEnd: true });
      offsetMs = Math.max(offsetMs, Math.ceil(endMs));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const name = partName((parts.at(-1)?.number ?? 0) + 1);
  const dir = path.join(spool, name);
  await mkdir(dir, { recursive: true });
  const manifest: PartManifest = { offsetMs, startedAt: new Date().toISOString() };
  const manifestJson = JSON.stringify(manifest);
  await writeFile(path.join(dir, MANIFEST), manifestJson);
  uploads.put(`${prefix}/${name}/${MANIFEST}`, Buffer.from(manifestJson));
  opts.log.info({ part: name, offsetMs, earlierParts: parts.length }, 'recording part opened');
  return {
    name,
    dir,
    offsetMs,
    ship: (file) => uploads.put(`${prefix}/${name}/${path.basename(file)}`, file),
    drain: (ms) => uploads.drain(ms),
    close: () => uploads.close(),
  };
}

/** Puts into the store one after another, retrying each until it succeeds or close() is called. */
class StoreUploads {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #closed = false;

  constructor(
    private readonly store: RecordingStore,
    private readonly log: Logger,
  ) {}

  put(key: string, from: string | Buffer): void {
    this.#pending++;
    this.#tail = this.#tail.then(async () => {
      for (let backoff = 250; !this.#closed; backoff = Math.min(5000, backoff * 2)) {
        try {
          if (typeof from === 'string') await this.store.put(key, from);
          else await this.store.putBytes(key, from);
          break;
        } catch (err) {
          this.log.warn({ err, key, pending: this.#pending }, 'shipping a recording segment failed; retrying');
          await new Promise((r) => setTimeout(r, backoff));
        }
      }
      this.#pending--;
    });
  }

  drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.#tail.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.#closed = true;
  }
}
