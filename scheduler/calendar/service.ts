/**
 * Calendars as the API and the scheduler see them: OAuth connect (state bound to the user,
 * stored hashed, single use, ten minutes; PKCE S256), the first sync, debounced sync
 * requests from push notifications, removal, re-evaluation after rule changes, and the
 * periodic upkeep that guarantees a full sync a day and live push channels.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, inArray, isNull, lt, or, sql as dsql } from 'drizzle-orm';
import type PgBoss from 'pg-boss';
import type { Config } from '../../lib/config.js';
import type { Database } from '../../lib/db/index.js';
import { calendarChannels, calendarOauthStates, calendars, memberships } from '../../lib/db/schema.js';
import { inTransaction } from '../../lib/db/transaction.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/log.js';
import { randomToken, sha256Hex, type SecretBox } from '../../lib/secrets.js';
import type { BotDispatcher } from '../bot-dispatcher.js';
import { cancelBotJobs } from '../bot-scheduling.js';
import { QUEUES } from '../queues.js';
import { disconnectCalendar } from './disconnect.js';
import { GoogleCalendarProvider } from './google-provider.js';
import { MicrosoftCalendarProvider } from './microsoft-provider.js';
import { CalendarAuthError, TransientCalendarError, type CalendarProvider, type ProviderName } from './model.js';
import { reevaluate, type ReconcileDeps } from './reconcile.js';
import { DEFAULT_RULES } from './rules.js';
import { CalendarSync, FULL_SYNC_EVERY_MS, type SyncOutcome } from './sync.js';
import { CalendarTokens, type CalendarRow } from './tokens.js';

const STATE_TTL_MS = 10 * 60_000;

/** Why a connect failed, in the API's error vocabulary. */
export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(
    readonly code: 'provider_not_configured' | 'oauth_state_invalid' | 'oauth_denied' | 'oauth_failed' | 'service_unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface CalendarServiceDeps {
  config: Config;
  database: Database;
  boss: PgBoss;
  secrets: SecretBox;
  dispatcher: BotDispatcher;
  log: Logger;
  /** Defaults to the providers whose credentials are configured. */
  providers?: Partial<Record<ProviderName, CalendarProvider>>;
  now?: () => Date;
}

/** The providers whose client id and secret are set. */
export function configuredProviders(config: Config): Partial<Record<ProviderName, CalendarProvider>> {
  const providers: Partial<Record<ProviderName, CalendarProvider>> = {};
  if (config.GOOGLE_CLIENT_ID && config.GOOGLE_CLIENT_SECRET) {
    providers.google = new GoogleCalendarProvider({ ...config, GOOGLE_CLIENT_ID: config.GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET: config.GOOGLE_CLIENT_SECRET });
  }
  if (config.MICROSOFT_CLIENT_ID && config.MICROSOFT_CLIENT_SECRET) {
    providers.microsoft = new MicrosoftCalendarProvider({ ...config, MICROSOFT_CLIENT_ID: config.MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET: config.MICROSOFT_CLIENT_SECRET });
  }
  return providers;
}

const base64url = (b: Buffer) => b.toString('base64url');

export class CalendarService {
  readonly providers: Partial<Record<ProviderName, CalendarProvider>>;
  readonly tokens: CalendarTokens;
  readonly engine: CalendarSync;
  readonly reconcileDeps: ReconcileDeps;
  /** Calendar workers of this process, woken at once when a sync is requested here. */
  readonly #listeners = new Set<() => void>();
  readonly #deps: CalendarServiceDeps;

  constructor(deps: CalendarServiceDeps) {
    this.#deps = deps;
    this.providers = deps.providers ?? configuredProviders(deps.config);
    this.tokens = new CalendarTokens(deps.database.db, deps.secrets, this.providers);
    const now = deps.now ?? (() => new Date());
    this.reconcileDeps = { dispatcher: deps.dispatcher, config: deps.config, now };
    this.engine = new CalendarSync({ ...this.reconcileDeps, database: deps.database, tokens: this.tokens, providers: this.providers, log: deps.log, config: deps.config });
  }

  /** The provider, or a ConnectError saying which settings turn it on. */
  provider(name: ProviderName): CalendarProvider {
    const p = this.providers[name];
    if (!p) {
      const prefix = name.toUpperCase();
      throw new ConnectError('provider_not_configured', `${name === 'google' ? 'Google' : 'Microsoft'} calendars are off on this server: set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET`);
    }
    return p;
  }

  redirectUri(name: ProviderName): string {
    return `${this.#deps.config.PUBLIC_URL}/v1/calendars/${name}/callback`;
  }

  /** Starts a consent: stores the (hashed) state with the PKCE verifier for this user; returns the provider's consent URL. */
  async startConnect(p: { provider: ProviderName; workspaceId: string; userId: string }): Promise<string> {
    const provider = this.provider(p.provider);
    const state = randomToken('', 32);
    const verifier = base64url(randomBytes(48));
    const challenge = base64url(createHash('sha256').update(verifier).digest());
    const stateHash = sha256Hex(state);
    const { db } = this.#deps.database;
    await db.delete(calendarOauthStates).where(lt(calendarOauthStates.expiresAt, new Date()));
    await db.insert(calendarOauthStates).values({
      stateHash,
      workspaceId: p.workspaceId,
      userId: p.userId,
      provider: p.provider,
      codeVerifier: this.#deps.secrets.encrypt(verifier, `calendar_oauth_states:${stateHash}`),
      expiresAt: new Date(Date.now() + STATE_TTL_MS),
    });
    return provider.authorizationUrl({ state, codeChallenge: challenge, redirectUri: this.redirectUri(p.provider) });
  }

  /** The OAuth callback: consumes the state (once), exchanges the code, stores the calendar and starts its first sync. */
  async finishConnect(name: ProviderName, q: { state?: string; code?: string; error?: string; errorDescription?: string }): Promise<CalendarRow> {
    const provider = this.provider(name);
    if (!q.state) throw new ConnectError('oauth_state_invalid', 'the callback has no state; start again from /v1/calendars/' + name + '/connect');
    const stateHash = sha256Hex(q.state);
    const { db } = this.#deps.database;
    // Single use: whoever deletes the row owns the consent.
    const [pending] = await db.delete(calendarOauthStates).where(eq(calendarOauthStates.stateHash, stateHash)).returning();
    if (!pending || pending.provider !== name || pending.expiresAt.getTime() < Date.now()) {
      throw new ConnectError('oauth_state_invalid', 'this consent link is unknown, used or expired; start again from /v1/calendars/' + name + '/connect');
    }
    if (q.error) throw new ConnectError('oauth_denied', `the ${name} consent was not given (${q.error}${q.errorDescription ? `: ${q.errorDescription.slice(0, 200)}` : ''})`);
    if (!q.code) throw new ConnectError('oauth_failed', 'the callback has no code');
    const [member] = await db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, pending.workspaceId), eq(memberships.userId, pending.userId)));
    if (!member) throw new ConnectError('oauth_state_invalid', 'the user who started this consent is no longer in the workspace');

    const verifier = this.#deps.secrets.decrypt(pending.codeVerifier, `calendar_oauth_states:${stateHash}`);
    let account;
    try {
      account = await provider.exchangeCode({ code: q.code, codeVerifier: verifier, redirectUri: this.redirectUri(name) });
    } catch (err) {
      if (err instanceof CalendarAuthError) {
        throw new ConnectError(err.reason === 'scope_insufficient' ? 'oauth_denied' : 'oauth_failed', `${name} did not grant access: ${err.message}`);
      }
      if (err instanceof TransientCalendarError) throw new ConnectError('service_unavailable', `${name} could not be reached; try again (${err.message})`);
      throw err;
    }

    const calendar = await db.transaction(async (tx) => {
      const [existing] = await tx
        .select()
        .from(calendars)
        .where(and(eq(calendars.workspaceId, pending.workspaceId), eq(calendars.provider, name), eq(calendars.accountId, account.accountId)))
        .for('update');
      const id = existing?.id ?? newId('cal');
      const now = new Date();
      const values = {
        userId: pending.userId,
        email: account.email,
        timeZone: account.timeZone,
        status: 'connected' as const,
        disconnectedReason: null,
        disconnectedAt: null,
        ...this.tokens.grantColumns(id, account.grant),
        tokenVersion: (existing?.tokenVersion ?? 0) + 1,
        // A reconnect starts over with a full sync.
        syncCursor: null,
        lastSyncError: null,
        updatedAt: now,
      };
      if (existing) {
        const [row] = await tx.update(calendars).set(values).where(eq(calendars.id, id)).returning();
        return row!;
      }
      const [row] = await tx
        .insert(calendars)
        .values({ id, workspaceId: pending.workspaceId, provider: name, accountId: account.accountId, rules: DEFAULT_RULES, ...values })
        .returning();
      return row!;
    });
    await this.requestSync(calendar.id);
    return calendar;
  }

  /**
   * Asks for a sync of the calendar: debounced per calendar (the first request of a
   * CALENDAR_SYNC_DEBOUNCE_S slot runs at once, later ones in the slot coalesce into one job at
   * the next slot).
   */
  async requestSync(calendarId: string): Promise<void> {
    const def = QUEUES.calendarSync;
    await this.#deps.boss.sendDebounced(def.name, def.payload.parse({ calendarId }), {}, this.#deps.config.CALENDAR_SYNC_DEBOUNCE_S, calendarId);
    for (const wake of this.#listeners) wake();
  }

  /** A local worker's wake-up; returns the unsubscribe. */
  onSyncRequested(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The body of a calendar.sync job. */
  sync(calendarId: string): Promise<SyncOutcome> {
    return this.engine.sync(calendarId);
  }

  /** DELETE /v1/calendars/{id}: stops push channels, revokes the grant (best effort), cancels bots only it wanted, deletes it. */
  async remove(calendar: CalendarRow, actor: { type: 'user' | 'api_key'; id: string }): Promise<void> {
    const provider = this.providers[calendar.provider];
    if (provider && calendar.status === 'connected') {
      try {
        const accessToken = await this.tokens.accessToken(calendar.id);
        await this.engine.stopPush(calendar, accessToken);
        const refreshToken = this.tokens.refreshTokenOf(calendar);
        if (refreshToken) await provider.revoke(refreshToken);
      } catch (err) {
        this.#deps.log.warn({ calendarId: calendar.id, err: (err as Error).message }, 'revoking a removed calendar failed; removing it anyway');
      }
    }
    await disconnectCalendar(this.#deps.database, this.reconcileDeps, calendar.id, { reason: 'removed', message: 'the calendar was removed', remove: true, actor });
  }

  /** Re-decides the calendar's events (rules or overrides changed) and moves their bots. */
  async reevaluate(calendarId: string, eventIds?: string[]): Promise<void> {
    const jobs = await inTransaction(this.#deps.database, async (tx, sql) => {
      const [calendar] = await tx.select().from(calendars).where(eq(calendars.id, calendarId)).for('update');
      if (!calendar) return [];
      return (await reevaluate(tx, sql, this.reconcileDeps, calendar, eventIds)).cancelledJobs;
    });
    await cancelBotJobs(this.#deps.dispatcher, jobs);
  }

  /**
   * Periodic upkeep (scheduler role): a sync for every connected calendar whose last full sync
   * is ~a day old, whose push channel is missing or due for renewal, or — without push — whose
   * last sync is older than CALENDAR_POLL_MINUTES. Returns how many syncs it requested.
   */
  async maintain(): Promise<number> {
    const { db } = this.#deps.database;
    const now = (this.#deps.now ?? (() => new Date()))();
    const fullDue = new Date(now.getTime() - FULL_SYNC_EVERY_MS);
    const pollDue = new Date(now.getTime() - this.#deps.config.CALENDAR_POLL_MINUTES * 60_000);
    const renewBy = new Date(now.getTime() + 6 * 24 * 3600_000);
    const googleRenewBy = new Date(now.getTime() + 26 * 3600_000);
    const channelOk = db
      .select({ one: dsql`1` })
      .from(calendarChannels)
      .where(
        and(
          eq(calendarChannels.calendarId, calendars.id),
          eq(calendarChannels.needsReauthorization, false),
          or(
            and(eq(calendarChannels.provider, 'google'), gt(calendarChannels.expiresAt, googleRenewBy)),
            and(eq(calendarChannels.provider, 'microsoft'), gt(calendarChannels.expiresAt, renewBy)),
          ),
        ),
      );
    const due = await db
      .select({ id: calendars.id })
      .from(calendars)
      .where(
        and(
          eq(calendars.status, 'connected'),
          or(
            isNull(calendars.lastFullSyncAt),
            lt(calendars.lastFullSyncAt, fullDue),
            and(dsql`not exists (${channelOk})`, or(isNull(calendars.lastSyncAt), lt(calendars.lastSyncAt, pollDue))),
          ),
        ),
      );
    for (const c of due) await this.requestSync(c.id);
    await db.delete(calendarOauthStates).where(lt(calendarOauthStates.expiresAt, now));
    return due.length;
  }

  /** Calendars by id for the webhook routes (one query). */
  async calendarsByIds(ids: string[]): Promise<CalendarRow[]> {
    if (ids.length === 0) return [];
    return this.#deps.database.db.select().from(calendars).where(inArray(calendars.id, ids));
  }
}
