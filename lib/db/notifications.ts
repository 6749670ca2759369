/**
 * Postgres LISTEN/NOTIFY on one dedicated connection per process, reconnecting after the
 * database comes back. Used to wake bot workers when a bot is due and to reach the process
 * running a bot (leave requests) wherever it runs.
 */
import pg from 'pg';
import type { Logger } from '../log.js';

export const CHANNELS = {
  /** payload: bot id — a bot became due now; workers fetch at once instead of waiting for the next poll. */
  botDue: 'notula_bot_due',
  /** payload: bot id — something changed for a running bot (leave requested). */
  botControl: 'notula_bot_control',
  /** payload: bot id, or `workspace:<id>` — new rows in the event log (lib/events.ts). */
  events: 'notula_events',
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];
type Handler = (payload: string) => void;

export class Notifications {
  #client: pg.Client | undefined;
  #handlers = new Map<string, Set<Handler>>();
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.#connect();
  }

  on(channel: Channel, handler: Handler): () => void {
    let set = this.#handlers.get(channel);
    if (!set) {
      set = new Set();
      this.#handlers.set(channel, set);
      void this.#client?.query(`listen ${channel}`).catch(() => undefined);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'notula-listen' });
    client.on('notification', (n) => {
      for (const h of this.#handlers.get(n.channel) ?? []) h(n.payload ?? '');
    });
    client.on('error', (err) => {
      this.log.warn({ err }, 'notification connection lost; reconnecting');
      this.#scheduleReconnect();
    });
    client.on('end', () => this.#scheduleReconnect());
    await client.connect();
    for (const channel of this.#handlers.keys()) await client.query(`listen ${channel}`);
    this.#client = client;
  }

  #scheduleReconnect() {
    if (this.#closed || this.#retry) return;
    this.#client = undefined;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#connect().catch(() => this.#scheduleReconnect());
    }, 1000);
  }
}

/** NOTIFY through any executor (inside a transaction it is delivered on commit). */
export const notifySql = (channel: Channel, payload: string) => ({ text: 'select pg_notify($1, $2)', values: [channel, payload] });
