/**
 * Standard Webhooks v1 signing (https://www.standardwebhooks.com): the secret is `whsec_` +
 * base64 of random bytes; the signature is base64 HMAC-SHA256 over `id.timestamp.body` with
 * the decoded bytes, sent as `webhook-signature: v1,<sig>` (several, space-separated, while a
 * rotated secret is still honoured).
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

function secretBytes(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('not a whsec_ secret');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

export function sign(secret: string, msgId: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secretBytes(secret)).update(`${msgId}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one attempt, signed with every secret given (current first). */
export function signedHeaders(secrets: string[], msgId: string, timestampS: number, body: string): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': secrets.map((s) => sign(s, msgId, timestampS, body)).join(' '),
  };
}

/** What a sealed endpoint secret is bound to (SecretBox AAD): it cannot be moved to another endpoint's row. */
export const secretAad = (endpointId: string) => `webhook_endpoints.secret:${endpointId}`;
