/** Authentication for /v1 (API key or access JWT), per-principal rate limits and role checks. */
import { getConnInfo } from '@hono/node-server/conninfo';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { Context, MiddlewareHandler } from 'hono';
import { apiKeys, memberships } from '../../lib/db/schema.js';
import { sha256Hex } from '../../lib/secrets.js';
import type { AppEnv, Principal, Role } from '../context.js';
import { ApiError } from '../errors.js';

export const API_KEY_PREFIX = 'ntl_';

/** The client's address: the socket peer (proxies can be trusted later with an explicit setting). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function enforceRateLimit(c: Context<AppEnv>, key: string, perMinute: number): void {
  const r = c.var.services.rateLimiter.hit(key, perMinute);
  c.header('RateLimit-Limit', String(perMinute));
  c.header('RateLimit-Remaining', String(r.remaining));
  c.header('RateLimit-Reset', String(r.resetInSeconds));
  if (!r.allowed) {
    throw new ApiError('rate_limited', `too many requests; retry in ${r.resetInSeconds}s`, undefined, { 'Retry-After': String(r.resetInSeconds) });
  }
}

/** Brute-force guard for the unauthenticated auth endpoints. */
export const authRateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  enforceRateLimit(c, `auth:${clientAddress(c)}`, c.var.services.config.RATE_LIMIT_AUTH_PER_MINUTE);
  await next();
};

/** The subprotocol entry that carries a credential on a WebSocket handshake: `bearer.<token>`. */
export const WS_BEARER_PREFIX = 'bearer.';

/**
 * Browsers cannot set headers on a WebSocket, so a WebSocket handshake may carry its token as
 * a subprotocol instead: `new WebSocket(url, ['notula.live.v1', 'bearer.' + token])`. Tokens
 * stay out of URLs (and so out of access logs, proxies and browser history).
 */
function webSocketToken(c: Context<AppEnv>): string | undefined {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return undefined;
  const offered = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  const entry = offered.find((p) => p.startsWith(WS_BEARER_PREFIX));
  return entry?.slice(WS_BEARER_PREFIX.length) || undefined;
}

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  let token = header ? undefined : webSocketToken(c);
  if (!header && !token) throw new ApiError('unauthorized', 'send Authorization: Bearer <API key or access token>');
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new ApiError('token_malformed', 'Authorization header must be "Bearer <token>"');
    token = match[1]!;
  }
  const principal = token!.startsWith(API_KEY_PREFIX) ? await apiKeyPrincipal(c, token!) : await userPrincipal(c, token!);
  c.set('principal', principal);
  const subject = principal.type === 'api_key' ? `key:${principal.keyId}` : `user:${principal.userId}`;
  enforceRateLimit(c, `api:${subject}`, c.var.services.config.RATE_LIMIT_API_PER_MINUTE);
  await next();
};

async function apiKeyPrincipal(c: Context<AppEnv>, token: string): Promise<Principal> {
  const { db } = c.var.services;
  const [key] = await db.select().from(apiKeys).where(eq(apiKeys.keyHash, sha256Hex(token)));
  if (!key) throw new ApiError('unauthorized', 'API key is not valid');
  if (key.revokedAt) throw new ApiError('token_revoked', 'API key has been revoked');
  // Record use at most once a minute per key, off the request path.
  const now = new Date();
  void db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, key.id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, new Date(now.getTime() - 60_000)))))
    .catch(() => undefined);
  return { type: 'api_key', keyId: key.id, workspaceId: key.workspaceId };
}

async function userPrincipal(c: Context<AppEnv>, token: string): Promise<Principal> {
  const { tokens, db } = c.var.services;
  const claims = await tokens.verifyAccess(token);
  const [m] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.userId, claims.userId), eq(memberships.workspaceId, claims.workspaceId)));
  if (!m) throw new ApiError('token_revoked', 'you are no longer a member of this workspace');
  return { type: 'user', userId: claims.userId, sessionId: claims.sessionId, workspaceId: claims.workspaceId, role: m.role };
}

/** Only users with one of these roles (not API keys) may continue. */
export function requireUserRole(c: Context<AppEnv>, roles: Role[]): Extract<Principal, { type: 'user' }> {
  const p = c.var.principal;
  if (p.type !== 'user') throw new ApiError('forbidden', 'this endpoint needs a user login, not an API key');
  if (!roles.includes(p.role)) throw new ApiError('forbidden', `this needs the ${roles.join(' or ')} role`);
  return p;
}
