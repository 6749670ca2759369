/**
 * Documents attached to a meeting: the type is sniffed from the bytes (never the file name or
 * the client's Content-Type), then the text is extracted — PDF with unpdf (PDF.js), DOCX with
 * mammoth, TXT/MD decoded as strict UTF-8 (or UTF-16 with a byte-order mark). Failures are
 * values with the HTTP status they deserve: 415 for a type we do not take, 422 for a file of
 * a type we take that cannot be read.
 */
import mammoth from 'mammoth';
import { getDocumentProxy } from 'unpdf';
import { checkZipExpansion, ZipError, zipEntries } from './zip-check.js';

export type DocumentKind = 'pdf' | 'docx' | 'txt' | 'md';

export const CONTENT_TYPES: Record<DocumentKind, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
};

export interface ExtractedPage {
  /** 1-based page number for PDFs, null otherwise. */
  page: number | null;
  text: string;
}

export type Extraction =
  | { ok: true; kind: DocumentKind; pages: number | null; parts: ExtractedPage[]; textChars: number; truncated: boolean }
  | { ok: false; status: 415 | 422; message: string };

/** PDF pages read at most; the rest of a longer file is left out (marked truncated). */
export const MAX_PDF_PAGES = 500;
/** What a DOCX may expand to. */
const MAX_DOCX_EXPANDED_BYTES = 100 * 1024 * 1024;

export type Sniffed = { kind: DocumentKind } | { kind: null; reason: string };

export function sniffDocument(bytes: Buffer, filename: string): Sniffed {
  if (bytes.length === 0) return { kind: null, reason: 'the file is empty' };
  const head = bytes.subarray(0, 1024).toString('latin1');
  if (head.includes('%PDF-')) return { kind: 'pdf' };
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) return { kind: 'docx' };
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0xd0cf11e0) return { kind: null, reason: 'legacy Office files (.doc) are not supported; save it as DOCX or PDF' };
  if (decodeText(bytes) !== null) return { kind: /\.(md|markdown|mdown|mkd)$/i.test(filename) ? 'md' : 'txt' };
  return { kind: null, reason: 'not a PDF, DOCX, text or markdown file' };
}

/** Strict UTF-8 (or UTF-16 with a BOM) text without NULs and with few control characters; null when it is not text. */
export function decodeText(bytes: Buffer): string | null {
  let text: string;
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
    else text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
  if (text.includes('\u0000')) return null;
  const controls = (text.match(/[\u0001-\u0008\u000b\u000e-\u001f\u007f]/g) ?? []).length;
  if (controls > Math.max(2, text.length / 100)) return null;
  return text.replace(/^\uFEFF/, '');
}

const normalise = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();

export async function extractDocument(bytes: Buffer, filename: string, opts: { maxChars: number }): Promise<Extraction> {
  const sniffed = sniffDocument(bytes, filename);
  if (!sniffed.kind) return { ok: false, status: 415, message: sniffed.reason };
  let parts: ExtractedPage[];
  let pages: number | null = null;
  let truncated = false;
  switch (sniffed.kind) {
    case 'pdf': {
      const r = await extractPdf(bytes);
      if ('error' in r) return { ok: false, status: 422, message: r.error };
      ({ parts, pages, truncated } = r);
      break;
    }
    case 'docx': {
      const r = await extractDocx(bytes);
      if ('error' in r) return { ok: false, status: r.status, message: r.error };
      parts = [{ page: null, text: r.text }];
      break;
    }
    default:
      parts = [{ page: null, text: normalise(decodeText(bytes)!) }];
  }
  // Keep at most maxChars of text, cutting the last part kept.
  let left = opts.maxChars;
  const kept: ExtractedPage[] = [];
  for (const p of parts) {
    if (left <= 0) {
      truncated = true;
      break;
    }
    if (p.text.length > left) {
      kept.push({ page: p.page, text: p.text.slice(0, left) });
      truncated = true;
      left = 0;
    } else {
      kept.push(p);
      left -= p.text.length;
    }
  }
  return { ok: true, kind: sniffed.kind, pages, parts: kept, textChars: kept.reduce((a, p) => a + p.text.length, 0), truncated };
}

async function extractPdf(bytes: Buffer): Promise<{ parts: ExtractedPage[]; pages: number; truncated: boolean } | { error: string }> {
  let doc: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // verbosity 0: PDF.js keeps its warnings about odd files to itself.
    doc = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false, stopAtErrors: false });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'PasswordException') return { error: 'the PDF is password-protected' };
    return { error: `not a readable PDF (${(err as Error).message.slice(0, 120)})` };
  }
  try {
    const parts: ExtractedPage[] = [];
    const last = Math.min(doc.numPages, MAX_PDF_PAGES);
    for (let n = 1; n <= last; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      const text = content.items.map((it) => ('str' in it ? it.str + (it.hasEOL ? '\n' : '') : '')).join('');
      parts.push({ page: n, text: normalise(text) });
      page.cleanup();
    }
    return { parts, pages: doc.numPages, truncated: doc.numPages > last };
  } catch (err) {
    return { error: `the PDF could not be read (${(err as Error).message.slice(0, 120)})` };
  } finally {
    await doc.destroy().catch(() => undefined);
  }
}

async function extractDocx(bytes: Buffer): Promise<{ text: string } | { error: string; status: 415 | 422 }> {
  try {
    const entries = zipEntries(bytes);
    if (!entries.some((e) => e.name === 'word/document.xml')) return { error: 'a ZIP file that is not a Word document (DOCX)', status: 415 };
    checkZipExpansion(bytes, entries, MAX_DOCX_EXPANDED_BYTES);
  } catch (err) {
    if (err instanceof ZipError) return { error: `not a readable DOCX (${err.message})`, status: 422 };
    throw err;
  }
  try {
    const result = await mammoth.extractRawText({ buffer: bytes });
    return { text: normalise(result.value) };
  } catch (err) {
    return { error: `not a readable DOCX (${(err as Error).message.slice(0, 120)})`, status: 422 };
  }
}

/** Splits extracted text into searchable passages of about `size` characters, on paragraph breaks where possible. */
export function toPassages(parts: ExtractedPage[], size = 1200): ExtractedPage[] {
  const out: ExtractedPage[] = [];
  for (const p of parts) {
    let cur = '';
    const flush = () => {
      if (cur.trim()) out.push({ page: p.page, text: cur.trim() });
      cur = '';
    };
    for (const para of p.text.split(/\n{2,}/)) {
      if (cur && cur.length + para.length + 2 > size) flush();
      if (para.length > size) {
        for (let i = 0; i < para.length; i += size) {
          cur = para.slice(i, i + size);
          flush();
        }
      } else cur = cur ? `${cur}\n\n${para}` : para;
    }
    flush();
  }
  return out;
}
