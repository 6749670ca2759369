/**
 * OAuth tokens of connected calendars, sealed at rest (AES-256-GCM through SecretBox, bound
 * to the row and column). Access tokens are cached on the row; a refresh happens under a
 * row lock, so concurrent syncs in any process refresh once and a rotated refresh token
 * (Microsoft rotates on every refresh) is persisted in the same transaction that read the
 * old one — never lost to a race.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../../lib/db/index.js';
import { calendars } from '../../lib/db/schema.js';
import type { SecretBox } from '../../lib/secrets.js';
import { CalendarAuthError, type CalendarProvider, type ProviderName, type TokenGrant } from './model.js';

/** Refresh when the access token has less than this left. */
const EXPIRY_MARGIN_MS = 2 * 60_000;

export type CalendarRow = typeof calendars.$inferSelect;

export const sealRefreshToken = (secrets: SecretBox, calendarId: string, token: string) => secrets.encrypt(token, `calendars.refresh_token:${calendarId}`);
export const sealAccessToken = (secrets: SecretBox, calendarId: string, token: string) => secrets.encrypt(token, `calendars.access_token:${calendarId}`);

export class CalendarTokens {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
    private readonly providers: Partial<Record<ProviderName, CalendarProvider>>,
  ) {}

  /** The columns that store a grant (for inserts and updates). */
  grantColumns(calendarId: string, grant: TokenGrant) {
    return {
      accessToken: sealAccessToken(this.secrets, calendarId, grant.accessToken),
      accessTokenExpiresAt: grant.expiresAt,
      ...(grant.refreshToken ? { refreshToken: sealRefreshToken(this.secrets, calendarId, grant.refreshToken) } : {}),
      ...(grant.scopes ? { scopes: grant.scopes } : {}),
    };
  }

  refreshTokenOf(row: Pick<CalendarRow, 'id' | 'refreshToken'>): string | undefined {
    return row.refreshToken ? this.secrets.decrypt(row.refreshToken, `calendars.refresh_token:${row.id}`) : undefined;
  }

  #validAccessToken(row: CalendarRow): string | undefined {
    if (!row.accessToken || !row.accessTokenExpiresAt) return undefined;
    if (row.accessTokenExpiresAt.getTime() - Date.now() < EXPIRY_MARGIN_MS) return undefined;
    return this.secrets.decrypt(row.accessToken, `calendars.access_token:${row.id}`);
  }

  /**
   * A usable access token, refreshed through the provider when needed. Throws
   * CalendarAuthError for dead grants. `db` lets a sync run this on the connection it holds.
   */
  async accessToken(calendarId: string, db: Db = this.db): Promise<string> {
    const [row] = await db.select().from(calendars).where(eq(calendars.id, calendarId));
    if (!row || row.status !== 'connected') throw new CalendarAuthError('disconnected', 'the calendar is not connected');
    const cached = this.#validAccessToken(row);
    if (cached) return cached;
    const provider = this.providers[row.provider];
    if (!provider) throw new CalendarAuthError('provider_not_configured', `${row.provider} calendars are not configured on this server`);

    return db.transaction(async (tx) => {
      const [locked] = await tx.select().from(calendars).where(eq(calendars.id, calendarId)).for('update');
      if (!locked || locked.status !== 'connected') throw new CalendarAuthError('disconnected', 'the calendar is not connected');
      // Another sync refreshed while we waited for the lock.
      const fresh = this.#validAccessToken(locked);
      if (fresh) return fresh;
      const refreshToken = this.refreshTokenOf(locked);
      if (!refreshToken) throw new CalendarAuthError('no_refresh_token', 'no refresh token is stored for this calendar');
      const grant = await provider.refresh(refreshToken);
      await tx
        .update(calendars)
        .set({ ...this.grantColumns(calendarId, grant), tokenVersion: locked.tokenVersion + 1, updatedAt: new Date() })
        .where(eq(calendars.id, calendarId));
      return grant.accessToken;
    });
  }

  /** After a 401: the cached access token is no good; the next call refreshes. */
  async forgetAccessToken(calendarId: string, db: Db = this.db): Promise<void> {
    await db.update(calendars).set({ accessToken: null, accessTokenExpiresAt: null }).where(eq(calendars.id, calendarId));
  }
}
