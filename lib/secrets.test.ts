import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, constantTimeEqual, randomToken, sha256Hex } from './secrets.js';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips and never stores plaintext', () => {
    const sealed = box.encrypt('ya29.refresh-token', 'calendar:1');
    expect(sealed).not.toContain('refresh-token');
    expect(box.decrypt(sealed, 'calendar:1')).toBe('ya29.refresh-token');
  });

  it('uses a fresh IV every time', () => {
    expect(box.encrypt('same')).not.toBe(box.encrypt('same'));
  });

  it('rejects a value moved to another row (AAD) or tampered with', () => {
    const sealed = box.encrypt('secret', 'row:1');
    expect(() => box.decrypt(sealed, 'row:2')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('forged').toString('base64url');
    expect(() => box.decrypt(parts.join('.'), 'row:1')).toThrow();
  });

  it('rejects a key of the wrong size', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('tokens', () => {
  it('hashes deterministically and compares in constant time', () => {
    const t = randomToken('ntl_');
    expect(t.startsWith('ntl_')).toBe(true);
    expect(sha256Hex(t)).toHaveLength(64);
    expect(constantTimeEqual(sha256Hex(t), sha256Hex(t))).toBe(true);
    expect(constantTimeEqual('a', 'ab')).toBe(false);
  });
});
