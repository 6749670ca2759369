/**
 * Where finished recordings and artifacts live: the `RecordingStore` port and its filesystem
 * adapter. Keys are `/`-separated relative paths (`bots/<id>/recording.ogg`).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

export interface RecordingStore {
  /** Copies a local file to `key` (atomically: readers see the old object or the whole new one). */
  put(key: string, fromPath: string): Promise<{ sizeBytes: number }>;
  putBytes(key: string, data: Buffer): Promise<void>;
  /** Null when there is no object at `key`. */
  stat(key: string): Promise<{ sizeBytes: number } | null>;
  /** The object's bytes, or `start..end` (both inclusive, like an HTTP Range). Errors on the stream if missing. */
  read(key: string, range?: { start: number; end: number }): NodeJS.ReadableStream | Readable;
  /** Keys of every object under `prefix` (`bots/<id>/parts` lists `bots/<id>/parts/…`), sorted; nothing there is an empty list. */
  list(prefix: string): Promise<string[]>;
  /** Removes every object under `prefix` (`bots/<id>` removes `bots/<id>/…`); nothing there is fine. */
  deleteTree(prefix: string): Promise<void>;
}

/** Throws unless `key` is a relative, `/`-separated path without `.`, `..` or empty segments. */
export function assertValidKey(key: string): void {
  const bad = (why: string) => new Error(`invalid storage key ${JSON.stringify(key)}: ${why}`);
  if (!key) throw bad('empty');
  if (key.length > 1024) throw bad('too long');
  if (key.startsWith('/') || /^[A-Za-z]:/.test(key)) throw bad('absolute');
  if (/[\\\0]/.test(key)) throw bad('backslash or NUL');
  for (const part of key.split('/')) {
    if (part === '' || part === '.' || part === '..') throw bad('empty, "." or ".." segment');
  }
}

export class FsRecordingStore implements RecordingStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Absolute path of a key (validated; always inside the root). */
  pathOf(key: string): string {
    assertValidKey(key);
    const full = path.join(this.root, ...key.split('/'));
    if (!full.startsWith(this.root + path.sep)) throw new Error(`invalid storage key ${JSON.stringify(key)}`);
    return full;
  }

  async put(key: string, fromPath: string): Promise<{ sizeBytes: number }> {
    const dest = this.pathOf(key);
    await this.atomically(dest, (tmp) => copyFile(fromPath, tmp));
    return { sizeBytes: (await stat(dest)).size };
  }

  async putBytes(key: string, data: Buffer): Promise<void> {
    const dest = this.pathOf(key);
    await this.atomically(dest, async (tmp) => {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(data);
      } finally {
        await fh.close();
      }
    });
  }

  async stat(key: string): Promise<{ sizeBytes: number } | null> {
    try {
      const st = await stat(this.pathOf(key));
      return st.isFile() ? { sizeBytes: st.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    const file = this.pathOf(key);
    if (range && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
      throw new RangeError(`invalid range ${range.start}-${range.end}`);
    }
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async list(prefix: string): Promise<string[]> {
    const trimmed = prefix.replace(/\/+$/, '');
    const keys: string[] = [];
    const walk = async (dir: string, key: string) => {
      const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw err;
      });
      for (const e of entries) {
        if (e.isDirectory()) await walk(path.join(dir, e.name), `${key}/${e.name}`);
        // `.tmp-` files are puts in progress (see atomically).
        else if (e.isFile() && !e.name.includes('.tmp-')) keys.push(`${key}/${e.name}`);
      }
    };
    await walk(this.pathOf(trimmed), trimmed);
    return keys.sort();
  }

  async deleteTree(prefix: string): Promise<void> {
    const trimmed = prefix.replace(/\/+$/, '');
    await rm(this.pathOf(trimmed), { recursive: true, force: true });
  }

  /** Writes via `<dest>.tmp-<random>` in the same directory, fsyncs, then renames over `dest`. */
  private async atomically(dest: string, write: (tmp: string) => Promise<void>): Promise<void> {
    await mkdir(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await write(tmp);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, dest);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}
