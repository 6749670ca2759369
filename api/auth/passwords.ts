/** Password hashing (argon2id, OWASP parameters) and the strength check applied at registration. */
import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id; the const enum isn't importable under isolatedModules.
const ARGON2ID = 2;
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => hash(password, PARAMS);

/** A hash of a random password: verifying against it keeps "no such user" as slow as "wrong password". */
let decoy: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    decoy ??= hashPassword(`decoy-${Math.random()}`);
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}

const COMMON = new Set([
  'password', 'password1', 'password123', '123456789', '1234567890', 'qwertyuiop', 'iloveyou', 'letmein123',
  'welcome123', 'admin12345', 'changeme123', 'passw0rd', 'p@ssw0rd', 'qwerty123', 'abc123456', 'football1',
]);

/** Returns why a password is too weak, or null. Long passphrases pass on length alone. */
export function passwordWeakness(password: string, email: string): string | null {
  if (password.length < 10) return 'use at least 10 characters';
  if (password.length > 256) return 'use at most 256 characters';
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return 'this password is too common';
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 4 && lower.includes(local)) return 'do not include your email address';
  if (new Set(password).size < 5) return 'use more distinct characters';
  if (password.length >= 16) return null;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3) return 'mix upper case, lower case, digits and symbols, or use a passphrase of 16+ characters';
  return null;
}
