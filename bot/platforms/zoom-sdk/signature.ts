/**
 * The Meeting SDK JWT (the `signature` ZoomMtg.join takes), computed in Node so the secret
 * never reaches the page: HS256 over `{appKey, sdkKey, mn, role, iat, exp, tokenExp}` with
 * the SDK secret (research/platform-mechanics.md §3.3; Zoom's Meeting SDK auth docs). Zoom
 * accepts it only when exp − iat is between 30 minutes and 48 hours; iat is backdated a
 * little so a bot host whose clock runs ahead of Zoom's is not refused.
 */
import { SignJWT } from 'jose';

/** Zoom's bounds on exp − iat, in seconds. */
export const MIN_SIGNATURE_TTL_S = 30 * 60;
export const MAX_SIGNATURE_TTL_S = 48 * 60 * 60;
/** Two hours, like Zoom's sample auth endpoint: ample for a waiting room, short if it leaks. */
export const DEFAULT_SIGNATURE_TTL_S = 2 * 60 * 60;
/** iat is set this far in the past (clock skew between us and Zoom). */
export const CLOCK_SKEW_S = 30;

export interface SignatureInput {
  /** The SDK key (a "General" app's Client ID). */
  sdkKey: string;
  /** The SDK secret (a "General" app's Client Secret). */
  sdkSecret: string;
  /** The meeting number, digits only. */
  meetingNumber: string;
  /** 0 joins as an attendee (the bot); 1 would start the meeting as host. */
  role?: 0 | 1;
  /** exp − iat; between MIN_SIGNATURE_TTL_S and MAX_SIGNATURE_TTL_S. */
  ttlSeconds?: number;
  /** Clock, for tests. */
  now?: Date;
}

export interface SignatureClaims {
  appKey: string;
  sdkKey: string;
  mn: string;
  role: 0 | 1;
  iat: number;
  exp: number;
  tokenExp: number;
}

export class SignatureError extends Error {
  override name = 'SignatureError';
}

/** The claims a signature for `input` carries; throws SignatureError on input Zoom would refuse. */
export function signatureClaims(input: SignatureInput): SignatureClaims {
  const ttl = input.ttlSeconds ?? DEFAULT_SIGNATURE_TTL_S;
  if (!Number.isInteger(ttl) || ttl < MIN_SIGNATURE_TTL_S || ttl > MAX_SIGNATURE_TTL_S) {
    throw new SignatureError(
      `the Meeting SDK signature must live between ${MIN_SIGNATURE_TTL_S} s (30 minutes) and ${MAX_SIGNATURE_TTL_S} s (48 hours); got ${ttl} s`,
    );
  }
  if (!/^\d{9,12}$/.test(input.meetingNumber)) {
    throw new SignatureError(`a Zoom meeting number is 9 to 12 digits; got "${input.meetingNumber}"`);
  }
  if (!input.sdkKey.trim() || !input.sdkSecret.trim()) throw new SignatureError('the Meeting SDK key and secret must not be empty');
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000) - CLOCK_SKEW_S;
  const exp = iat + ttl;
  return { appKey: input.sdkKey, sdkKey: input.sdkKey, mn: input.meetingNumber, role: input.role ?? 0, iat, exp, tokenExp: exp };
}

/** The signed Meeting SDK JWT. Never log it or put it in a URL: it admits anyone to the meeting. */
export async function meetingSdkSignature(input: SignatureInput): Promise<string> {
  const claims = signatureClaims(input);
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(input.sdkSecret));
}
