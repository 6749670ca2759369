/** A real WebSocket client (the `ws` package) for GET /v1/bots/:id/live, recording what arrives and when. */
import WebSocket from 'ws';

export interface LiveEvent {
  id: string;
  type: string;
  timestamp: string;
  seq: number;
  data: any;
  /** Date.now() when the message arrived. */
  receivedAt: number;
}

export interface LiveConnectOptions {
  /** Sent as Authorization: Bearer. */
  token?: string;
  /** Subprotocols offered (the browser way to authenticate). */
  protocols?: string[];
  since?: number | string;
}

export class LiveClient {
  readonly events: LiveEvent[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: { pred: () => boolean; resolve: () => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      this.events.push({ ...JSON.parse(data.toString()), receivedAt: Date.now() });
      this.#waiters = this.#waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true));
    });
  }

  static url(base: string, botId: string, since?: number | string): string {
    return `${base.replace(/^http/, 'ws')}/v1/bots/${botId}/live${since !== undefined ? `?since=${since}` : ''}`;
  }

  /** Opens the socket; rejects with `{ status }` when the handshake is refused. */
  static connect(base: string, botId: string, opts: LiveConnectOptions = {}): Promise<LiveClient> {
    const ws = new WebSocket(LiveClient.url(base, botId, opts.since), opts.protocols ?? [], {
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    });
    const client = new LiveClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`handshake refused with ${res.statusCode}`), { status: res.statusCode }));
        ws.terminate();
      });
      ws.once('error', (err) => reject(err));
    });
  }

  /** The HTTP status a refused handshake answers with. */
  static async refusal(base: string, botId: string, opts: LiveConnectOptions = {}): Promise<number> {
    try {
      const c = await LiveClient.connect(base, botId, opts);
      c.ws.terminate();
      return 101;
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === undefined) throw err;
      return status;
    }
  }

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  waitFor(pred: (events: LiveEvent[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const check = () => pred(this.events);
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`live client: condition not met in ${timeoutMs} ms; got ${this.events.map((e) => `${e.seq}:${e.type}`).join(', ')}`)),
        timeoutMs,
      );
      this.#waiters.push({
        pred: check,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000);
    return this.closed;
  }
}
