/**
 * A real HTTP webhook receiver for tests: it verifies every request with the official
 * `standardwebhooks` package (as a customer's server would), records what arrived, and can be
 * told how to answer (a status, a redirect, hanging) or be stopped and restarted on the same
 * port (connection refused in between).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  json: any;
  /** Whether `standardwebhooks` accepted the signature with the receiver's secret. */
  verified: boolean;
  /** What the receiver answered. */
  status: number;
  path: string;
  at: number;
}

export type Answer = { status: number; location?: string } | 'hang';

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Decides each answer; 204 by default. */
  answer: (req: ReceivedWebhook) => Answer = () => ({ status: 204 });
  #server: http.Server | undefined;
  #port = 0;
  #hanging = new Set<http.ServerResponse>();
  #waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(public secret: string) {}

  static async start(secret: string): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(secret);
    await r.listen();
    return r;
  }

  get port(): number {
    return this.#port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  /** Requests whose signature verified. */
  get verified(): ReceivedWebhook[] {
    return this.received.filter((r) => r.verified);
  }

  /** Listens (again, on the same port once it had one). */
  async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        };
        let verified = false;
        let json: unknown;
        try {
          json = new Webhook(this.secret).verify(body, headers);
          verified = true;
        } catch {
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
        }
        const rec: ReceivedWebhook = {
          id: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          signature: headers['webhook-signature'],
          body,
          json,
          verified,
          status: 0,
          path: req.url ?? '',
          at: Date.now(),
        };
        const answer = this.answer(rec);
        if (answer === 'hang') {
          this.#hanging.add(res);
          res.on('close', () => this.#hanging.delete(res));
        } else {
          rec.status = answer.status;
          res.writeHead(answer.status, answer.location ? { location: answer.location } : {});
          res.end();
        }
        this.received.push(rec);
        this.#check();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening: new connections are refused until listen() again. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const res of this.#hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `pred` holds over what was received (checked on every request). */
  waitFor(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`webhook receiver: condition not met in ${timeoutMs} ms; got ${this.received.length} requests`)), timeoutMs);
      this.#waiters.push({
        pred,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  #check(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred()) return true;
      w.resolve();
      return false;
    });
  }
}
