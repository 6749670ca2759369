/** Small helpers the provider fakes share: bodies, JSON answers, forms, S256, zone-aware times. */
import { createHash } from 'node:crypto';
import type http from 'node:http';

export async function readBody(req: http.IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-length': 0 });
  res.end();
}

/** A form body, or the client's Basic credentials merged in (RFC 6749 §2.3.1 allows either). */
export function parseForm(body: string, authorization: string | undefined): URLSearchParams {
  const form = new URLSearchParams(body);
  const basic = /^Basic\s+(.+)$/i.exec(authorization ?? '');
  if (basic) {
    const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    if (id) form.set('client_id', decodeURIComponent(id));
    if (secret !== undefined) form.set('client_secret', decodeURIComponent(secret));
  }
  return form;
}

export const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export const bearer = (req: http.IncomingMessage) => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Year … second of the instant as a wall clock in `timeZone`. */
export function wallClock(at: Date, timeZone: string): Record<string, string> {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
}

/** `2026-03-03T10:00:00+01:00` for the instant in `timeZone` (what Google emits). */
export function rfc3339InZone(at: Date, timeZone: string): string {
  const parts = wallClock(at, timeZone);
  const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  const offsetMin = Math.round((Date.parse(`${local}Z`) - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const offset = offsetMin === 0 ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${offset}`;
}

/** Sends one HTTP request the way a provider delivers a notification; resolves with the status and how long the receiver took. */
export async function deliver(url: string, init: RequestInit): Promise<{ status: number; ms: number; body: string; contentType: string | null }> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const body = await res.text();
    return { status: res.status, ms: performance.now() - started, body, contentType: res.headers.get('content-type') };
  } catch (err) {
    return { status: 0, ms: performance.now() - started, body: String((err as Error).message), contentType: null };
  }
}
