/**
 * The live stream behind `GET /v1/bots/:id/live`: every event of one bot, in `seq` order, one
 * JSON text message each (`{id, type, timestamp, seq, data}`), starting after `?since`.
 *
 * No gaps, no duplicates, no race between replay and tail: a stream keeps only a cursor (the
 * last seq sent). Whatever wakes it — the first open, a NOTIFY for its bot, a slow poll in
 * case a notification was lost while the listen connection reconnected — it reads
 * `seq > cursor` from the event log and sends it. The log commits in seq order
 * (lib/events.ts), so a read never skips a row that commits later.
 *
 * Slow consumers: the server never queues events for a socket. Before each send it looks at
 * the socket's `bufferedAmount` (bytes accepted but not yet written to the kernel); above
 * LIVE_MAX_BUFFERED_BYTES it stops reading the log and re-checks shortly, and carries on from
 * its cursor once the client has read. Memory per socket is bounded by that limit plus one
 * event, however far behind the client is, and a slow client still gets every event — we
 * chose this over closing it, because the log makes catching up free. A client that stops
 * reading altogether stops answering pings too, and is closed by the keepalive.
 *
 * Keepalive: a ping every LIVE_PING_INTERVAL_MS; no pong (or message) by the next ping →
 * the socket is terminated. End: once the bot is `done` or `fatal`, its recording is no longer
 * being finalized, and every event was sent, the server closes with 1000 "bot finished". (A
 * bot that ended fatal while its worker was lost may never finalize; it is closed
 * FINISH_WAIT after its final status.) Server shutdown closes with 1001.
 */
import { sql } from 'drizzle-orm';
import type { WebSocket } from 'ws';
import type { Config } from '../../lib/config.js';
import type { Db } from '../../lib/db/index.js';
import { CHANNELS, type Notifications } from '../../lib/db/notifications.js';
import { eventJson, readBotEvents } from '../../lib/events.js';
import type { Logger } from '../../lib/log.js';

export interface LiveSettings {
  maxBufferedBytes: number;
  pingIntervalMs: number;
  /** Events read from the log per query. */
  batchSize?: number;
  /** Fallback poll of the log (lost notifications, the end of a bot). */
  pollIntervalMs?: number;
  /** How often a paused socket is checked for room again. */
  drainCheckMs?: number;
  /** A terminal bot whose recording never finalizes is closed this long after its final status. */
  finishWaitMs?: number;
}

export const liveSettingsFrom = (config: Config): LiveSettings => ({
  maxBufferedBytes: config.LIVE_MAX_BUFFERED_BYTES,
  pingIntervalMs: config.LIVE_PING_INTERVAL_MS,
});

export interface LiveStreamStats {
  botId: string;
  cursor: number;
  sent: number;
  /** The largest `bufferedAmount` seen right after a send. */
  peakBufferedBytes: number;
  /** How many times the stream stopped because the client was behind. */
  pauses: number;
  bufferedAmount: number;
}

/** Close codes the stream uses (1000 and 1001 are the protocol's; 1011 is an internal error). */
export const LIVE_CLOSE = { finished: 1000, shutdown: 1001, internal: 1011 } as const;

const TERMINAL = ['done', 'fatal'];
const FINALIZING = ['recording', 'finalizing'];

export class LiveStreams {
  #byBot = new Map<string, Set<BotStream>>();
  #unsubscribe: () => void;
  #closing = false;

  constructor(
    private readonly db: Db,
    notifications: Notifications,
    readonly settings: LiveSettings,
    private readonly log: Logger,
  ) {
    this.#unsubscribe = notifications.on(CHANNELS.events, (botId) => {
      for (const s of this.#byBot.get(botId) ?? []) s.wake();
    });
  }

  /** Starts streaming a bot's events after `since` on an open socket. */
  open(socket: WebSocket, botId: string, since: number): void {
    if (this.#closing) {
      socket.close(LIVE_CLOSE.shutdown, 'server shutting down');
      return;
    }
    const stream = new BotStream(this.db, socket, botId, since, this.settings, this.log.child({ botId, live: true }), () => {
      const set = this.#byBot.get(botId);
      set?.delete(stream);
      if (set?.size === 0) this.#byBot.delete(botId);
    });
    let set = this.#byBot.get(botId);
    if (!set) this.#byBot.set(botId, (set = new Set()));
    set.add(stream);
    stream.start();
  }

  stats(): LiveStreamStats[] {
    return [...this.#byBot.values()].flatMap((set) => [...set].map((s) => s.stats()));
  }

  /** Shutdown: closes every socket with 1001 and waits (up to timeoutMs) for them to go. */
  async closeAll(timeoutMs = 2000): Promise<void> {
    this.#closing = true;
    this.#unsubscribe();
    const all = [...this.#byBot.values()].flatMap((set) => [...set]);
    await Promise.all(all.map((s) => s.shutdown(timeoutMs)));
  }
}

class BotStream {
  #cursor: number;
  #pumping = false;
  #again = false;
  #closed = false;
  #alive = true;
  #timers: NodeJS.Timeout[] = [];
  #drainTimer: NodeJS.Timeout | undefined;
  #sent = 0;
  #peak = 0;
  #pauses = 0;
  #closedPromise: Promise<void>;

  constructor(
    private readonly db: Db,
    private readonly socket: WebSocket,
    private readonly botId: string,
    since: number,
    private readonly settings: LiveSettings,
    private readonly log: Logger,
    private readonly onDispose: () => void,
  ) {
    this.#cursor = since;
    this.#closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  start(): void {
    const s = this.socket;
    s.on('pong', () => (this.#alive = true));
    s.on('message', () => (this.#alive = true));
    s.on('close', () => this.#dispose());
    s.on('error', (err) => {
      this.log.debug({ err }, 'live socket error');
      this.#dispose();
    });
    this.#timers.push(setInterval(() => this.#ping(), this.settings.pingIntervalMs));
    this.#timers.push(setInterval(() => this.wake(), this.settings.pollIntervalMs ?? 5000));
    this.wake();
  }

  stats(): LiveStreamStats {
    return { botId: this.botId, cursor: this.#cursor, sent: this.#sent, peakBufferedBytes: this.#peak, pauses: this.#pauses, bufferedAmount: this.socket.bufferedAmount };
  }

  wake(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  async shutdown(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#close(LIVE_CLOSE.shutdown, 'server shutting down');
    await Promise.race([this.#closedPromise, new Promise((r) => setTimeout(r, timeoutMs))]);
    this.socket.terminate();
  }

  #ping(): void {
    if (this.#closed) return;
    if (!this.#alive) {
      this.log.debug('live socket missed a pong; terminating');
      this.socket.terminate();
      this.#dispose();
      return;
    }
    this.#alive = false;
    this.socket.ping();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        if (await this.#sendAvailable()) {
          // The client is behind: look again shortly, without touching the database meanwhile.
          clearTimeout(this.#drainTimer);
          this.#drainTimer = setTimeout(() => this.wake(), this.settings.drainCheckMs ?? 25);
          return;
        }
        const end = await this.#finished();
        if (end === 'more') this.#again = true;
        else if (end) {
          this.#close(LIVE_CLOSE.finished, end);
          return;
        }
      } while (this.#again && !this.#closed);
    } catch (err) {
      this.log.error({ err }, 'live stream failed');
      this.#close(LIVE_CLOSE.internal, 'internal error; reconnect with ?since=<last seq>');
    } finally {
      this.#pumping = false;
    }
  }

  /** Sends every event after the cursor; true when it stopped because the socket is full. */
  async #sendAvailable(): Promise<boolean> {
    const max = this.settings.maxBufferedBytes;
    for (;;) {
      if (this.#closed) return false;
      if (this.socket.bufferedAmount >= max) return this.#paused();
      const rows = await readBotEvents(this.db, this.botId, this.#cursor, this.settings.batchSize ?? 100);
      if (rows.length === 0) return false;
      for (const row of rows) {
        if (this.#closed) return false;
        if (this.socket.bufferedAmount >= max) return this.#paused();
        this.socket.send(JSON.stringify(eventJson(row)));
        this.#cursor = row.seq!;
        this.#sent += 1;
        this.#peak = Math.max(this.#peak, this.socket.bufferedAmount);
      }
    }
  }

  #paused(): true {
    this.#pauses += 1;
    return true;
  }

  /** Whether the stream is complete: a close reason, 'more' when events arrived meanwhile, or null. */
  async #finished(): Promise<string | 'more' | null> {
    const res = await this.db.execute<{ status: string; event_seq: number; status_updated_at: Date; recording: string | null }>(sql`
      select b.status, b.event_seq, b.status_updated_at, r.status as recording
      from bots b left join recordings r on r.bot_id = b.id
      where b.id = ${this.botId}`);
    const bot = res.rows[0];
    if (!bot) return 'bot deleted';
    if (bot.event_seq > this.#cursor) return 'more';
    if (!TERMINAL.includes(bot.status)) return null;
    const finalizing = bot.recording !== null && FINALIZING.includes(bot.recording);
    const waited = Date.now() - new Date(bot.status_updated_at).getTime() >= (this.settings.finishWaitMs ?? 60_000);
    return !finalizing || waited ? 'bot finished' : null;
  }

  #close(code: number, reason: string): void {
    if (this.#closed) return;
    this.socket.close(code, reason);
    this.#dispose();
  }

  #dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#drainTimer);
    this.onDispose();
  }
}
