/**
 * Access and refresh tokens. Both are HS256 JWTs signed with a key derived from
 * ENCRYPTION_KEY, so every token error has one distinct code: expired, malformed, bad
 * signature, revoked. Refresh tokens are also stored hashed, one row per rotation; a refresh
 * token used twice revokes its whole family (RFC 9700 §4.14.2).
 */
import { and, eq, isNull } from 'drizzle-orm';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Db } from '../../lib/db/index.js';
import { sessions } from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import { deriveKey, sha256Hex } from '../../lib/secrets.js';
import { ApiError } from '../errors.js';

export const ACCESS_TTL_S = 15 * 60;
export const REFRESH_TTL_S = 30 * 24 * 3600;
const ISSUER = 'notula';

export interface AccessClaims {
  userId: string;
  sessionId: string;
  workspaceId: string;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export class TokenService {
  readonly #key: Uint8Array;

  constructor(
    masterKey: Buffer,
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = new Uint8Array(deriveKey(masterKey, 'notula/jwt-hs256'));
  }

  /** Starts a new session family (login, register). */
  async startSession(userId: string, workspaceId: string, meta: { userAgent?: string; ip?: string }): Promise<IssuedTokens> {
    return this.#issue(this.db, userId, workspaceId, newId('ses'), meta);
  }

  /** Rotates a refresh token; reuse of an already-rotated one revokes the family. */
  async refresh(refreshToken: string, meta: { userAgent?: string; ip?: string }): Promise<IssuedTokens> {
    const claims = await this.#verify(refreshToken, 'refresh');
    const outcome = await this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(sessions).where(eq(sessions.id, claims.sid)).for('update');
      if (!row || row.tokenHash !== sha256Hex(refreshToken)) return { error: 'token_malformed' as const };
      if (row.revokedAt) return { error: 'token_revoked' as const };
      if (row.rotatedAt) {
        await tx.update(sessions).set({ revokedAt: new Date(this.now()) }).where(and(eq(sessions.familyId, row.familyId), isNull(sessions.revokedAt)));
        return { error: 'reused' as const };
      }
      await tx.update(sessions).set({ rotatedAt: new Date(this.now()) }).where(eq(sessions.id, row.id));
      return { tokens: await this.#issue(tx, row.userId, row.workspaceId, row.familyId, meta) };
    });
    if (outcome.tokens) return outcome.tokens;
    if (outcome.error === 'reused') {
      throw new ApiError('token_revoked', 'refresh token was already used; every session of this login has been revoked');
    }
    throw new ApiError(outcome.error, outcome.error === 'token_revoked' ? 'refresh token has been revoked' : 'refresh token is not recognised');
  }

  /** Revokes the family of the session (logout). */
  async revokeFamilyOf(sessionId: string): Promise<void> {
    const [row] = await this.db.select({ familyId: sessions.familyId }).from(sessions).where(eq(sessions.id, sessionId));
    if (!row) return;
    await this.db.update(sessions).set({ revokedAt: new Date(this.now()) }).where(and(eq(sessions.familyId, row.familyId), isNull(sessions.revokedAt)));
  }

  /** Verifies an access token, including that its session has not been revoked. */
  async verifyAccess(token: string): Promise<AccessClaims> {
    const claims = await this.#verify(token, 'access');
    const [row] = await this.db.select({ revokedAt: sessions.revokedAt }).from(sessions).where(eq(sessions.id, claims.sid));
    if (!row || row.revokedAt) throw new ApiError('token_revoked', 'this session has been revoked; log in again');
    return { userId: claims.sub, sessionId: claims.sid, workspaceId: claims.wid };
  }

  async #issue(db: Pick<Db, 'insert'>, userId: string, workspaceId: string, familyId: string, meta: { userAgent?: string; ip?: string }): Promise<IssuedTokens> {
    const sessionId = newId('ses');
    const nowS = Math.floor(this.now() / 1000);
    const sign = (typ: 'access' | 'refresh', ttl: number) =>
      new SignJWT({ typ, wid: workspaceId, sid: sessionId })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setIssuedAt(nowS)
        .setExpirationTime(nowS + ttl)
        .setJti(newId('ses'))
        .sign(this.#key);
    const [access, refresh] = await Promise.all([sign('access', ACCESS_TTL_S), sign('refresh', REFRESH_TTL_S)]);
    await db.insert(sessions).values({
      id: sessionId,
      userId,
      workspaceId,
      familyId,
      tokenHash: sha256Hex(refresh),
      expiresAt: new Date((nowS + REFRESH_TTL_S) * 1000),
      userAgent: meta.userAgent?.slice(0, 256) ?? null,
      ip: meta.ip ?? null,
    });
    return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: ACCESS_TTL_S };
  }

  async #verify(token: string, typ: 'access' | 'refresh'): Promise<{ sub: string; sid: string; wid: string }> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        issuer: ISSUER,
        algorithms: ['HS256'],
        currentDate: new Date(this.now()),
      });
      if (payload.typ !== typ || typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.wid !== 'string') {
        throw new ApiError('token_malformed', `not an ${typ} token`);
      }
      return { sub: payload.sub, sid: payload.sid, wid: payload.wid };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new ApiError('token_expired', `${typ} token has expired`);
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new ApiError('token_invalid_signature', `${typ} token signature is invalid`);
      throw new ApiError('token_malformed', `${typ} token is malformed`);
    }
  }
}
