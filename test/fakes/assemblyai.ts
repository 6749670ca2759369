/**
 * A local AssemblyAI for tests, reached by the official SDK through ASSEMBLYAI_BASE_URL (and
 * the streaming URL derived from it). One HTTPS server (self-signed, made with openssl at
 * start) speaks:
 *
 * - Universal Streaming v3 at `wss://…/v3/ws`: the key in the `Authorization` header (or a
 *   `token` query parameter); `Begin` on connect; binary PCM messages of 50–1000 ms (others
 *   get a 3007 `Error` frame and close); `Turn` messages — partials, then the finished turn
 *   unformatted and, with `format_turns=true`, formatted; `{"type":"Terminate"}` →
 *   `Termination` and close 1000. A bad key gets an `Error` frame with code 1008 and a
 *   close 1008, as the service does. What it hears is what pocketsphinx makes of the PCM
 *   the socket received, with word times on that socket's audio clock.
 * - REST: `POST /v2/upload` (raw bytes → `upload_url`), `POST /v2/transcript`,
 *   `GET /v2/transcript/:id` (queued → processing → completed, words in ms), with
 *   `{"error": …}` bodies and 401 for a bad key.
 *
 * The SDK accepts only wss:// and gives `ws` no TLS options, and Node 20 cannot add a CA at
 * run time, so `start` sets NODE_TLS_REJECT_UNAUTHORIZED=0 for the test process (restored
 * by `close`). Only this process's connections to loopback fakes are affected.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveTranscription, Utterance } from '../../bot/transcribe/transcriber.js';
import { silentLogger } from '../../lib/log.js';
import { fakeEngine, sentenceCase } from './heard.js';

const execFileP = promisify(execFile);

export interface FakeStreamSession {
  id: string;
  query: URLSearchParams;
  authorization: string | undefined;
  /** PCM received, and the duration of each binary message (ms). */
  audio: Buffer[];
  messageMs: number[];
  turnsSent: number;
  terminated: boolean;
  closeCode: number | undefined;
  openedAt: number;
  closedAt: number | undefined;
  readonly audioMs: number;
}

export interface FakeTranscript {
  id: string;
  status: 'queued' | 'processing' | 'completed' | 'error';
  audio_url: string;
  request: Record<string, unknown>;
  [k: string]: unknown;
}

export interface AssemblyAiFake {
  /** ASSEMBLYAI_BASE_URL. */
  baseUrl: string;
  /** The streaming endpoint the config derives from baseUrl. */
  streamingUrl: string;
  /** Keys the fake accepts; empty it (or change it) to reject everyone. */
  keys: Set<string>;
  sessions: FakeStreamSession[];
  uploads: { id: string; bytes: number; file: string }[];
  transcripts: FakeTranscript[];
  /** REST calls refused for a bad key. */
  restRefused: number;
  /** Answer REST calls with this status and an error body (null: answer normally). */
  restFailure: number | null;
  /** Debug hook: called with what the fake does. */
  log?: (line: string) => void;
  /** Abruptly drops every open streaming socket (no close frame: code 1006 at the client). */
  dropSockets(): void;
  /** Sends an `Error` frame and closes every open streaming socket with `code`. */
  failSockets(code: number, message: string): void;
  close(): Promise<void>;
}

const BYTES_PER_MS = 32;

export async function startAssemblyAiFake(opts: { keys?: string[] } = {}): Promise<AssemblyAiFake> {
  const dir = await mkdtemp(path.join(tmpdir(), 'notula-aai-fake-'));
  await execFileP('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ]);
  const server: Server = createServer({ key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(path.join(dir, 'cert.pem')) });
  const previousTls = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

  const sockets = new Set<WebSocket>();
  let baseUrl = '';
  const fake: AssemblyAiFake = {
    baseUrl: '',
    streamingUrl: '',
    keys: new Set(opts.keys ?? ['aai-test-key']),
    sessions: [],
    uploads: [],
    transcripts: [],
    restFailure: null,
    restRefused: 0,
    dropSockets() {
      for (const ws of sockets) ws.terminate();
    },
    failSockets(code, message) {
      for (const ws of sockets) {
        ws.send(JSON.stringify({ type: 'Error', error_code: code, error: message }));
        ws.close(code, message.slice(0, 120));
      }
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      if (previousTls === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previousTls;
      await rm(dir, { recursive: true, force: true });
    },
  };

  // ---- streaming --------------------------------------------------------------------

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'https://fake');
    if (url.pathname !== '/v3/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void streamSession(ws, req, url));
  });

  async function streamSession(ws: WebSocket, req: IncomingMessage, url: URL): Promise<void> {
    sockets.add(ws);
    const session: FakeStreamSession = {
      id: randomUUID(),
      query: url.searchParams,
      authorization: req.headers.authorization,
      audio: [],
      messageMs: [],
      turnsSent: 0,
      terminated: false,
      closeCode: undefined,
      openedAt: Date.now(),
      closedAt: undefined,
      get audioMs() {
        return this.audio.reduce((s, b) => s + b.length, 0) / BYTES_PER_MS;
      },
    };
    fake.sessions.push(session);
    const error = (code: number, message: string) => {
      ws.send(JSON.stringify({ type: 'Error', error_code: code, error: message }));
      ws.close(code, message.slice(0, 120));
    };
    let live: LiveTranscription | undefined;
    ws.on('close', (code) => {
      sockets.delete(ws);
      session.closeCode = code;
      session.closedAt = Date.now();
      void live?.end();
    });
    const key = req.headers.authorization ?? url.searchParams.get('token') ?? undefined;
    if (!key) return error(1008, 'Unauthorized Connection: Missing Authorization header');
    if (!fake.keys.has(key)) return error(1008, 'Unauthorized Connection: Invalid API key');
    const rate = Number(url.searchParams.get('sample_rate'));
    if (!Number.isInteger(rate) || rate <= 0) return error(3006, 'Invalid sample_rate');
    if (rate !== 16_000 || (url.searchParams.get('encoding') ?? 'pcm_s16le') !== 'pcm_s16le') {
      return error(3006, 'this fake hears 16 kHz pcm_s16le only');
    }
    const formatTurns = url.searchParams.get('format_turns') === 'true';

    live = fakeEngine().startLive({ language: 'en', log: silentLogger });
    let turnOrder = 0;
    const send = (msg: object) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    live.onUtterance((u: Utterance) => {
      fake.log?.(`session ${fake.sessions.indexOf(session)} heard ${u.startMs}-${u.endMs} "${u.text}"`);
      const order = turnOrder++;
      const words = (n: number, formatted: boolean) => {
        const texts = formatted ? sentenceCase(u.words.map((w) => w.text)) : u.words.map((w) => w.text);
        return u.words.slice(0, n).map((w, i) => ({
          start: w.startMs,
          end: w.endMs,
          text: texts[i]!,
          confidence: w.confidence ?? 0.9,
          word_is_final: i < n - 1 || n === u.words.length,
        }));
      };
      const turn = (n: number, endOfTurn: boolean, formatted: boolean) => {
        const ws_ = words(n, formatted);
        session.turnsSent++;
        send({
          type: 'Turn',
          turn_order: order,
          turn_is_formatted: formatted,
          end_of_turn: endOfTurn,
          transcript: ws_.map((w) => w.text).join(' '),
          end_of_turn_confidence: endOfTurn ? 0.9 : 0.2,
          words: ws_,
        });
      };
      const half = Math.max(1, Math.ceil(u.words.length / 2));
      if (half < u.words.length) turn(half, false, false);
      turn(u.words.length, false, false);
      turn(u.words.length, true, false);
      if (formatTurns) turn(u.words.length, true, true);
    });
    send({ type: 'Begin', id: session.id, expires_at: Math.floor(Date.now() / 1000) + 3 * 3600 });

    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
        const ms = buf.length / BYTES_PER_MS;
        if (ms < 50 || ms > 1000) return error(3007, `Input duration violation: ${ms.toFixed(0)} ms. Expected between 50 and 1000 ms`);
        session.audio.push(Buffer.from(buf));
        session.messageMs.push(ms);
        live?.write(Buffer.from(buf));
        return;
      }
      let msg: { type?: string };
      try {
        msg = JSON.parse(String(data));
      } catch {
        return error(3006, `Invalid JSON: ${String(data).slice(0, 50)}`);
      }
      if (msg.type === 'Terminate') {
        session.terminated = true;
        const ending = live;
        live = undefined;
        void ending?.end().then(() => {
          send({ type: 'Termination', audio_duration_seconds: Math.round(session.audioMs / 1000), session_duration_seconds: Math.round((Date.now() - session.openedAt) / 1000) });
          ws.close(1000);
        });
        return;
      }
      if (msg.type === 'KeepAlive' || msg.type === 'ForceEndpoint' || msg.type === 'UpdateConfiguration') return;
      error(3006, `Invalid Message Type: ${msg.type}`);
    });
  }

  // ---- REST -------------------------------------------------------------------------

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };

  async function processTranscript(t: FakeTranscript, file: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 50));
    t.status = 'processing';
    try {
      const utterances = await fakeEngine().transcribeFile(file);
      const words = utterances.flatMap((u) => {
        const texts = sentenceCase(u.words.map((w) => w.text));
        return u.words.map((w, i) => ({ text: texts[i]!, start: w.startMs, end: w.endMs, confidence: w.confidence ?? 0.9, speaker: null }));
      });
      Object.assign(t, {
        status: 'completed',
        text: words.map((w) => w.text).join(' '),
        words,
        utterances: null,
        confidence: 0.9,
        audio_duration: Math.round((utterances.at(-1)?.endMs ?? 0) / 1000),
      });
    } catch (err) {
      Object.assign(t, { status: 'error', error: `Transcoding failed. ${(err as Error).message}` });
    }
  }

  server.on('request', (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', baseUrl);
      if (!req.headers.authorization || !fake.keys.has(req.headers.authorization)) {
        fake.restRefused++;
        return json(res, 401, { error: 'Authentication error, API token missing/invalid' });
      }
      if (fake.restFailure) return json(res, fake.restFailure, { error: `Internal server error (fake ${fake.restFailure})` });
      if (req.method === 'POST' && url.pathname === '/v2/upload') {
        const body = await readBody(req);
        const id = randomUUID();
        const file = path.join(dir, `upload-${id}`);
        await writeFile(file, body);
        fake.uploads.push({ id, bytes: body.length, file });
        return json(res, 200, { upload_url: `${baseUrl}/v2/uploads/${id}` });
      }
      if (req.method === 'POST' && url.pathname === '/v2/transcript') {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse((await readBody(req)).toString('utf8'));
        } catch {
          return json(res, 400, { error: 'Invalid JSON' });
        }
        if (typeof body.audio_url !== 'string') return json(res, 400, { error: 'audio_url is required' });
        const upload = fake.uploads.find((u) => body.audio_url === `${baseUrl}/v2/uploads/${u.id}`);
        const t: FakeTranscript = { id: randomUUID(), status: 'queued', audio_url: body.audio_url, request: body, language_code: body.language_code ?? 'en_us', text: null, words: null };
        fake.transcripts.push(t);
        if (upload) void processTranscript(t, upload.file);
        else Object.assign(t, { status: 'error', error: 'Download error, unable to download the audio_url' });
        return json(res, 200, { ...t, request: undefined });
      }
      const m = /^\/v2\/transcript\/([\w-]+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const t = fake.transcripts.find((x) => x.id === m[1]);
        if (!t) return json(res, 404, { error: 'Transcript lookup error, transcript id not found' });
        return json(res, 200, { ...t, request: undefined });
      }
      json(res, 404, { error: 'Not found' });
    })().catch((err: Error) => json(res, 500, { error: err.message }));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  baseUrl = `https://127.0.0.1:${port}`;
  fake.baseUrl = baseUrl;
  fake.streamingUrl = `wss://127.0.0.1:${port}/v3/ws`;
  return fake;
}
