/**
 * Syncing one calendar: a full listing of the window (now − 1 day … now + 28 days) when there
 * is no cursor, the last full sync is a day old (push is lossy) or the provider says the cursor
 * expired (410: the local state is replaced by the full listing); otherwise the increment
 * since the cursor. Each page is stored and reconciled in its own transaction. Then the push
 * channel is kept alive: Google channels are re-created before they expire (and the old ones
 * stopped), Graph subscriptions extended or reauthorized.
 *
 * Syncs of one calendar never overlap: the whole sync holds a session advisory lock on the
 * connection that does its writes.
 */
import { and, asc, eq, ne } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Config } from '../../lib/config.js';
import { schema, type Database, type Db } from '../../lib/db/index.js';
import { calendarChannels, calendars } from '../../lib/db/schema.js';
import type { SqlExecutor } from '../../lib/db/transaction.js';
import { emitWorkspaceEvent } from '../../lib/events.js';
import type { Logger } from '../../lib/log.js';
import { randomToken, sha256Hex } from '../../lib/secrets.js';
import { cancelBotJobs } from '../bot-scheduling.js';
import { disconnectCalendar } from './disconnect.js';
import {
  AccessTokenRejected,
  CalendarAuthError,
  SyncCursorExpired,
  type CalendarProvider,
  type EventChange,
  type ProviderName,
  type PushChannel,
  type SyncWindow,
} from './model.js';
import { applyChanges, removeUnlisted, type ReconcileDeps, type ReconcileResult } from './reconcile.js';
import type { CalendarRow, CalendarTokens } from './tokens.js';

const DAY_MS = 24 * 3600_000;
/** Push is lossy: a full listing once the last is this old (the minute-by-minute upkeep asks for it, so it is never more than a day). */
export const FULL_SYNC_EVERY_MS = 23 * 3600_000;
export const WINDOW_BEFORE_MS = DAY_MS;
export const WINDOW_AFTER_MS = 28 * DAY_MS;
/** Google: ask for a week; a new channel once the newest has less than 26 h left (a daily sync always sees it in time). */
const GOOGLE_CHANNEL_TTL_S = 7 * 24 * 3600;
const GOOGLE_RENEW_WITHIN_MS = 26 * 3600_000;
/** Graph: Outlook event subscriptions live at most 10,080 minutes; ask a bit less and extend once less than 6 days are left (daily). */
const GRAPH_SUBSCRIPTION_TTL_S = 10_069 * 60;
const GRAPH_RENEW_WITHIN_MS = 6 * DAY_MS;
/** Advisory-lock namespace for "one sync per calendar". */
const CALENDAR_LOCK_NS = 72_635_111;
const RETRYABLE_PG = new Set(['40P01', '40001', '23505', '23503']);

export interface SyncDeps extends ReconcileDeps {
  database: Database;
  tokens: CalendarTokens;
  providers: Partial<Record<ProviderName, CalendarProvider>>;
  log: Logger;
  config: ReconcileDeps['config'] & Pick<Config, 'PUBLIC_URL'>;
}

export interface SyncOutcome {
  status: 'synced' | 'skipped' | 'disconnected';
  full: boolean;
  /** Why a full listing ran: no cursor, daily, or the cursor expired (410). */
  fullReason?: 'initial' | 'daily' | 'cursor_expired';
  events: number;
  botsCreated: number;
  botsCancelled: number;
}

export const syncWindow = (now: Date): SyncWindow => ({ start: new Date(now.getTime() - WINDOW_BEFORE_MS), end: new Date(now.getTime() + WINDOW_AFTER_MS) });

export class CalendarSync {
  constructor(private readonly deps: SyncDeps) {}

  async sync(calendarId: string): Promise<SyncOutcome> {
    for (let wait = 25; ; wait = Math.min(1000, wait * 2)) {
      const client = await this.deps.database.pool.connect();
      let broken = false;
      try {
        // Try, and wait without a connection: waiters holding pool connections could starve the holder.
        const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as locked', [CALENDAR_LOCK_NS, calendarId]);
        if (rows[0]?.locked) {
          try {
            return await this.#syncLocked(client, calendarId);
          } finally {
            await client.query('select pg_advisory_unlock($1, hashtext($2))', [CALENDAR_LOCK_NS, calendarId]).catch(() => {
              broken = true;
            });
          }
        }
      } finally {
        // A connection whose unlock failed must not go back to the pool still holding the lock.
        client.release(broken ? new Error('advisory unlock failed') : undefined);
      }
      await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    }
  }

  async #syncLocked(client: pg.PoolClient, calendarId: string): Promise<SyncOutcome> {
    const db = drizzle(client, { schema });
    const skipped: SyncOutcome = { status: 'skipped', full: false, events: 0, botsCreated: 0, botsCancelled: 0 };
    const [calendar] = await db.select().from(calendars).where(eq(calendars.id, calendarId));
    if (!calendar || calendar.status !== 'connected') return skipped;
    const provider = this.deps.providers[calendar.provider];
    if (!provider) return skipped;
    const log = this.deps.log.child({ calendarId, provider: calendar.provider });

    try {
      let outcome: SyncOutcome | undefined;
      let accessToken = '';
      // A refused access token (revoked early, clock skew) is refreshed and the listing tried once more.
      for (let attempt = 1; !outcome; attempt++) {
        accessToken = await this.deps.tokens.accessToken(calendarId, db);
        try {
          outcome = await this.#listing(client, db, calendar, provider, accessToken, log);
        } catch (err) {
          if (!(err instanceof AccessTokenRejected) || attempt >= 2) throw err;
          await this.deps.tokens.forgetAccessToken(calendarId, db);
        }
      }
      await this.#keepPushAlive(db, calendar, provider, accessToken).catch((err) => {
        // Without push the calendar is polled (CALENDAR_POLL_MINUTES); the sync itself succeeded.
        log.warn({ err: (err as Error).message }, 'push channel upkeep failed');
      });
      return outcome;
    } catch (err) {
      if (err instanceof CalendarAuthError) {
        log.warn({ reason: err.reason }, 'calendar grant is gone; disconnecting');
        await disconnectCalendar(this.deps.database, this.deps, calendarId, { reason: err.reason, message: err.message });
        return { ...skipped, status: 'disconnected' };
      }
      if (err instanceof AccessTokenRejected) await this.deps.tokens.forgetAccessToken(calendarId, db);
      await db.update(calendars).set({ lastSyncError: String((err as Error).message ?? err).slice(0, 500) }).where(eq(calendars.id, calendarId));
      throw err;
    }
  }

  async #listing(client: pg.PoolClient, db: Db, calendar: CalendarRow, provider: CalendarProvider, accessToken: string, log: Logger): Promise<SyncOutcome> {
    const now = this.deps.now();
    const stale = !calendar.lastFullSyncAt || now.getTime() - calendar.lastFullSyncAt.getTime() >= FULL_SYNC_EVERY_MS;
    if (!calendar.syncCursor || stale) return this.#full(client, db, calendar, provider, accessToken, calendar.syncCursor ? 'daily' : 'initial');
    try {
      return await this.#incremental(client, db, calendar, provider, accessToken, calendar.syncCursor);
    } catch (err) {
      if (!(err instanceof SyncCursorExpired)) throw err;
      log.info('sync cursor expired; syncing in full');
      return this.#full(client, db, calendar, provider, accessToken, 'cursor_expired');
    }
  }

  async #full(client: pg.PoolClient, db: Db, calendar: CalendarRow, provider: CalendarProvider, accessToken: string, reason: SyncOutcome['fullReason']): Promise<SyncOutcome> {
    const window = syncWindow(this.deps.now());
    const listed = new Set<string>();
    const totals = { events: 0, botsCreated: 0, botsCancelled: 0 };
    const cursor = await provider.listChanges(accessToken, {
      window,
      onPage: async (changes) => {
        for (const c of changes) if (c.kind === 'upsert') listed.add(c.event.externalId);
        add(totals, await this.#inTx(client, (tx, sql) => applyChanges(tx, sql, this.deps, calendar, changes, window)), changes.length);
      },
    });
    // What the full listing does not have is gone: the local state is now exactly the listing.
    add(totals, await this.#inTx(client, (tx, sql) => removeUnlisted(tx, sql, this.deps, calendar, listed)), 0);
    const at = this.deps.now();
    const outcome: SyncOutcome = { status: 'synced', full: true, fullReason: reason, ...totals };
    await this.#finish(db, calendar, { syncCursor: cursor, lastFullSyncAt: at, lastSyncAt: at, lastSyncError: null, updatedAt: at }, outcome);
    return outcome;
  }

  async #incremental(client: pg.PoolClient, db: Db, calendar: CalendarRow, provider: CalendarProvider, accessToken: string, cursor: string): Promise<SyncOutcome> {
    const window = syncWindow(this.deps.now());
    const totals = { events: 0, botsCreated: 0, botsCancelled: 0 };
    const next = await provider.listChanges(accessToken, {
      cursor,
      window,
      onPage: async (changes: EventChange[]) => {
        add(totals, await this.#inTx(client, (tx, sql) => applyChanges(tx, sql, this.deps, calendar, changes, window)), changes.length);
      },
    });
    const at = this.deps.now();
    const outcome: SyncOutcome = { status: 'synced', full: false, ...totals };
    await this.#finish(db, calendar, { syncCursor: next, lastSyncAt: at, lastSyncError: null, updatedAt: at }, outcome);
    return outcome;
  }

  /** Stores the new cursor and, when the pass changed events or bots, a `calendar.sync` event (webhooks), together. */
  async #finish(db: Db, calendar: CalendarRow, set: Partial<typeof calendars.$inferInsert>, outcome: SyncOutcome): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.update(calendars).set(set).where(eq(calendars.id, calendar.id));
      if (outcome.events === 0 && outcome.botsCreated === 0 && outcome.botsCancelled === 0) return;
      await emitWorkspaceEvent(tx, calendar.workspaceId, 'calendar.sync', {
        calendar_id: calendar.id,
        provider: calendar.provider,
        full: outcome.full,
        events_changed: outcome.events,
        bots_created: outcome.botsCreated,
        bots_cancelled: outcome.botsCancelled,
      });
    });
  }

  /** One transaction on the sync's connection; deadlocks and unique races retry it; cancelled bots' jobs are cancelled after commit. */
  async #inTx(client: pg.PoolClient, fn: (tx: Db, sql: SqlExecutor) => Promise<ReconcileResult>): Promise<ReconcileResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query('begin');
        const result = await fn(drizzle(client, { schema }), { executeSql: (text, values) => client.query(text, values) });
        await client.query('commit');
        await cancelBotJobs(this.deps.dispatcher, result.cancelledJobs);
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
        if (attempt < 5 && code && RETRYABLE_PG.has(code)) {
          await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
          continue;
        }
        throw err;
      }
    }
  }

  async #keepPushAlive(db: Db, calendar: CalendarRow, provider: CalendarProvider, accessToken: string): Promise<void> {
    const now = this.deps.now().getTime();
    const channels = await db.select().from(calendarChannels).where(eq(calendarChannels.calendarId, calendar.id)).orderBy(asc(calendarChannels.expiresAt));
    const asChannel = (c: (typeof channels)[number]): PushChannel => ({ id: c.id, resourceId: c.resourceId, expiresAt: c.expiresAt });
    // Expired channels deliver nothing; forget them.
    for (const c of channels.filter((c) => c.expiresAt.getTime() <= now)) await db.delete(calendarChannels).where(eq(calendarChannels.id, c.id));
    const live = channels.filter((c) => c.expiresAt.getTime() > now);
    const newest = live.at(-1);

    if (provider.name === 'microsoft' && newest) {
      if (newest.needsReauthorization || newest.expiresAt.getTime() - now < GRAPH_RENEW_WITHIN_MS) {
        const renewed = await provider.renew(accessToken, asChannel(newest), { ttlSeconds: GRAPH_SUBSCRIPTION_TTL_S, reauthorize: newest.needsReauthorization });
        if (renewed) {
          await db.update(calendarChannels).set({ expiresAt: renewed.expiresAt, needsReauthorization: false }).where(eq(calendarChannels.id, newest.id));
          return;
        }
        // Gone on Graph's side (404): create a new one below.
        await db.delete(calendarChannels).where(eq(calendarChannels.id, newest.id));
      } else {
        return;
      }
    } else if (newest && newest.expiresAt.getTime() - now >= GOOGLE_RENEW_WITHIN_MS) {
      return;
    }

    const secret = randomToken('', 32);
    const ttlSeconds = provider.name === 'google' ? GOOGLE_CHANNEL_TTL_S : GRAPH_SUBSCRIPTION_TTL_S;
    const created = await provider.watch(accessToken, { secret, ttlSeconds, publicUrl: this.deps.config.PUBLIC_URL });
    await db.insert(calendarChannels).values({
      id: created.id,
      workspaceId: calendar.workspaceId,
      calendarId: calendar.id,
      provider: calendar.provider,
      resourceId: created.resourceId,
      secretHash: sha256Hex(secret),
      expiresAt: created.expiresAt,
    });
    // The new channel is live; now the older ones can go (they overlapped until here).
    const older = await db
      .select()
      .from(calendarChannels)
      .where(and(eq(calendarChannels.calendarId, calendar.id), ne(calendarChannels.id, created.id)));
    for (const c of older) {
      await provider.stop(accessToken, asChannel(c)).catch((err) => this.deps.log.warn({ err: (err as Error).message, channelId: c.id }, 'stopping an old push channel failed'));
      await db.delete(calendarChannels).where(eq(calendarChannels.id, c.id));
    }
  }

  /** Stops every push channel of a calendar (before it is removed); best effort. */
  async stopPush(calendar: CalendarRow, accessToken: string): Promise<void> {
    const provider = this.deps.providers[calendar.provider];
    if (!provider) return;
    const channels = await this.deps.database.db.select().from(calendarChannels).where(eq(calendarChannels.calendarId, calendar.id));
    for (const c of channels) {
      await provider.stop(accessToken, { id: c.id, resourceId: c.resourceId, expiresAt: c.expiresAt }).catch((err) => this.deps.log.warn({ err: (err as Error).message }, 'stopping a push channel failed'));
    }
    await this.deps.database.db.delete(calendarChannels).where(eq(calendarChannels.calendarId, calendar.id));
  }
}

function add(totals: { events: number; botsCreated: number; botsCancelled: number }, r: ReconcileResult, events: number) {
  totals.events += events;
  totals.botsCreated += r.botsCreated;
  totals.botsCancelled += r.botsCancelled;
}
