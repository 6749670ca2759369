/**
 * The Meeting SDK JWT against Zoom's documented rules: HS256 with the secret, header
 * {alg:HS256, typ:JWT}, claims appKey/sdkKey/mn/role/iat/exp/tokenExp, exp − iat within
 * [30 min, 48 h], iat backdated for clock skew.
 */
import { createHmac } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_S, DEFAULT_SIGNATURE_TTL_S, meetingSdkSignature, SignatureError } from './signature.js';

const key = 'AbCdEfGhIjKlMnOpQrSt';
const secret = 'a-client-secret-of-a-general-app';
const now = new Date('2026-11-22T10:00:00Z');
const nowS = Math.floor(now.getTime() / 1000);

describe('meetingSdkSignature', () => {
  it('is an HS256 JWT over the documented claims, verifiable with the secret', async () => {
    const jwt = await meetingSdkSignature({ sdkKey: key, sdkSecret: secret, meetingNumber: '81234567890', now });
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(jwt, new TextEncoder().encode(secret), { algorithms: ['HS256'], currentDate: now });
    expect(payload).toEqual({
      appKey: key,
      sdkKey: key,
      mn: '81234567890',
      role: 0,
      iat: nowS - CLOCK_SKEW_S,
      exp: nowS - CLOCK_SKEW_S + DEFAULT_SIGNATURE_TTL_S,
      tokenExp: nowS - CLOCK_SKEW_S + DEFAULT_SIGNATURE_TTL_S,
    });
  });

  it('signs header.payload with HMAC-SHA256 of the secret (checked without jose)', async () => {
    const jwt = await meetingSdkSignature({ sdkKey: key, sdkSecret: secret, meetingNumber: '123456789', now });
    const [header, payload, sig] = jwt.split('.');
    expect(createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')).toBe(sig);
  });

  it('fails verification with another secret', async () => {
    const jwt = await meetingSdkSignature({ sdkKey: key, sdkSecret: secret, meetingNumber: '123456789', now });
    await expect(jwtVerify(jwt, new TextEncoder().encode('not-the-secret'), { currentDate: now })).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it.each([1800, 3600, 48 * 3600])('accepts a lifetime of %i s and sets exp = tokenExp = iat + it', async (ttlSeconds) => {
    const jwt = await meetingSdkSignature({ sdkKey: key, sdkSecret: secret, meetingNumber: '123456789', ttlSeconds, now });
    const { payload } = await jwtVerify(jwt, new TextEncoder().encode(secret), { currentDate: now });
    expect(payload.exp! - payload.iat!).toBe(ttlSeconds);
    expect(payload.tokenExp).toBe(payload.exp);
  });

  it.each([1799, 48 * 3600 + 1, 0, -5, 1800.5])('refuses a lifetime of %s s with a clear error', async (ttlSeconds) => {
    const p = meetingSdkSignature({ sdkKey: key, sdkSecret: secret, meetingNumber: '123456789', ttlSeconds, now });
    await expect(p).rejects.toBeInstanceOf(SignatureError);
    await expect(p).rejects.toThrow(/between 1800 s \(30 minutes\) and 172800 s \(48 hours\)/);
  });

  it.each(['12345678', '1234 5678 90', 'abc123456789', ''])('refuses the meeting number "%s"', async (meetingNumber) => {
    await expect(meetingSdkSignature({ sdkKey: key, sdkSecret: secret, meetingNumber, now })).rejects.toThrow(/9 to 12 digits/);
  });

  it('refuses empty credentials', async () => {
    await expect(meetingSdkSignature({ sdkKey: ' ', sdkSecret: secret, meetingNumber: '123456789', now })).rejects.toThrow(/must not be empty/);
  });
});
