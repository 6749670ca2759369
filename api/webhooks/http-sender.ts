/**
 * The port that POSTs one signed webhook, and its real adapter over node:http(s): one fresh
 * connection per attempt, through the SSRF guard (the resolved address is checked before
 * connecting, and the connected peer again), a hard overall timeout, no redirects followed
 * (a 3xx is just a failed attempt), and at most a few KiB of the response read.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { ForbiddenAddressError, forbiddenAddressReason, guardedLookup, literalHostReason, type Resolver } from './url-guard.js';

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A response (any status) or a failure to get one. */
export type WebhookResult = { statusCode: number; latencyMs: number; error: null } | { statusCode: null; latencyMs: number; error: string };

export interface WebhookSender {
  post(req: WebhookRequest): Promise<WebhookResult>;
}

const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = 'Notula-Webhooks/1';

export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly opts: { timeoutMs: number; allowPrivate: boolean; resolve?: Resolver }) {}

  post(req: WebhookRequest): Promise<WebhookResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return Promise.resolve({ statusCode: null, latencyMs: 0, error: 'invalid URL' });
    }
    if (!this.opts.allowPrivate) {
      const why = literalHostReason(url);
      if (why) return Promise.resolve({ statusCode: null, latencyMs: 0, error: `refused: ${url.hostname} is ${why}` });
    }
    const client = url.protocol === 'https:' ? https : http;
    const body = Buffer.from(req.body, 'utf8');
    return new Promise<WebhookResult>((resolve) => {
      let settled = false;
      const done = (r: WebhookResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const request = client.request(
        url,
        {
          method: 'POST',
          agent: false,
          headers: { ...req.headers, 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': USER_AGENT },
          ...(this.opts.allowPrivate ? {} : { lookup: guardedLookup(this.opts.resolve) }),
        },
        (res) => {
          const statusCode = res.statusCode ?? 0;
          const latencyMs = elapsed();
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_RESPONSE_BYTES) res.destroy();
          });
          const finish = () => {
            done({ statusCode, latencyMs, error: null });
            request.destroy();
          };
          res.on('end', finish);
          res.on('close', finish);
          res.on('error', finish);
        },
      );
      if (!this.opts.allowPrivate) {
        request.on('socket', (socket: Socket) => {
          socket.once('connect', () => {
            const peer = socket.remoteAddress ?? '';
            const why = forbiddenAddressReason(peer);
            if (why) request.destroy(new ForbiddenAddressError(`connected to ${peer}, ${why}`));
          });
        });
      }
      request.on('error', (err: NodeJS.ErrnoException) => done({ statusCode: null, latencyMs: elapsed(), error: describe(err) }));
      const timer = setTimeout(() => {
        request.destroy(Object.assign(new Error(`no response within ${this.opts.timeoutMs} ms`), { code: 'TIMEOUT' }));
      }, this.opts.timeoutMs);
      request.end(body);
    });
  }
}

function describe(err: NodeJS.ErrnoException): string {
  if (err instanceof ForbiddenAddressError) return `refused: ${err.message}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host does not resolve';
    case 'ECONNRESET':
      return 'connection reset';
    case 'TIMEOUT':
      return err.message;
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}
