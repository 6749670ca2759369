/**
 * A look inside a ZIP container (DOCX is one) before a library unpacks it: the entries' names,
 * and a bounded inflate of every entry so a zip bomb (or sizes that lie) is refused before
 * anything expands it in memory.
 */
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export class ZipError extends Error {
  override name = 'ZipError';
}

/** The central directory's entries (throws ZipError when the container is malformed). */
export function zipEntries(buf: Buffer): ZipEntry[] {
  const min = Math.max(0, buf.length - 65_557);
  let eocd = -1;
  for (let i = buf.length - 22; i >= min; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let pos = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (pos + 46 > buf.length || buf.readUInt32LE(pos) !== 0x02014b50) throw new ZipError('broken central directory');
    const nameLen = buf.readUInt16LE(pos + 28);
    const extraLen = buf.readUInt16LE(pos + 30);
    const commentLen = buf.readUInt16LE(pos + 32);
    if (pos + 46 + nameLen > buf.length) throw new ZipError('broken central directory');
    entries.push({
      name: buf.toString('utf8', pos + 46, pos + 46 + nameLen),
      method: buf.readUInt16LE(pos + 10),
      compressedSize: buf.readUInt32LE(pos + 20),
      size: buf.readUInt32LE(pos + 24),
      localOffset: buf.readUInt32LE(pos + 42),
    });
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Inflates every entry within `maxTotalBytes` (and each within its declared size); throws ZipError otherwise. */
export function checkZipExpansion(buf: Buffer, entries: ZipEntry[], maxTotalBytes: number): void {
  let total = 0;
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    total += e.size;
    if (total > maxTotalBytes) throw new ZipError(`expands to more than ${maxTotalBytes} bytes`);
    const at = e.localOffset;
    if (at + 30 > buf.length || buf.readUInt32LE(at) !== 0x04034b50) throw new ZipError(`broken entry ${e.name}`);
    const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
    const data = buf.subarray(start, start + e.compressedSize);
    if (data.length !== e.compressedSize) throw new ZipError(`truncated entry ${e.name}`);
    if (e.method === 0) {
      if (e.compressedSize !== e.size) throw new ZipError(`entry ${e.name} has inconsistent sizes`);
    } else if (e.method === 8) {
      let out: Buffer;
      try {
        out = inflateRawSync(data, { maxOutputLength: Math.max(1, e.size) });
      } catch {
        throw new ZipError(`entry ${e.name} does not inflate to its declared size`);
      }
      if (out.length !== e.size) throw new ZipError(`entry ${e.name} does not inflate to its declared size`);
    } else throw new ZipError(`entry ${e.name} uses compression method ${e.method}`);
  }
}
