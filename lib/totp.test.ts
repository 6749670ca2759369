import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, totpCode, verifyTotp } from './totp.js';

// RFC 6238 Appendix B, SHA-1 seed "12345678901234567890" (8-digit codes there; we keep the last 6).
const SEED = base32Encode(Buffer.from('12345678901234567890'));

describe('totp', () => {
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('matches RFC 6238 at t=%i', (t, code) => {
    expect(totpCode(SEED, t * 1000)).toBe(code);
  });

  it('accepts one step of skew and nothing more', () => {
    const t = 1_700_000_000_000;
    expect(verifyTotp(SEED, totpCode(SEED, t - 30_000), t)).toBe(true);
    expect(verifyTotp(SEED, totpCode(SEED, t - 90_000), t)).toBe(false);
    expect(verifyTotp(SEED, 'abcdef', t)).toBe(false);
  });

  it('round-trips base32', () => {
    const b = Buffer.from([0, 1, 2, 250, 251, 255, 7]);
    expect(base32Decode(base32Encode(b))).toEqual(b);
  });
});
