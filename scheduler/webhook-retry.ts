/**
 * The webhook retry schedule: exponential backoff with jitter, capped, for a window of time
 * (at least 24 h in production). Pure functions of the attempt count and the clock, so tests
 * can compress the schedule through settings instead of faking time.
 */
import type { Config } from '../lib/config.js';

export interface RetryPolicy {
  /** Delay before the first retry. */
  firstDelayMs: number;
  /** Longest delay between two attempts. */
  maxDelayMs: number;
  /** Retries continue until this long after the window started (the first attempt, or a manual redelivery). */
  forMs: number;
}

export const retryPolicyFrom = (config: Config): RetryPolicy => ({
  firstDelayMs: config.WEBHOOK_RETRY_FIRST_DELAY_MS,
  maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
  forMs: config.WEBHOOK_RETRY_FOR_MS,
});

/**
 * The wait after the n-th failed attempt (n ≥ 1): first·2^(n-1), capped at maxDelayMs, then
 * "equal jitter" — a random point in its upper half — so receivers that fail together are not
 * retried together.
 */
export function retryDelayMs(failedAttempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = policy.firstDelayMs * 2 ** Math.min(40, Math.max(0, failedAttempts - 1));
  const capped = Math.min(policy.maxDelayMs, exp);
  return Math.round(capped / 2 + (capped / 2) * random());
}

/** When to try again after a failed attempt, or null when the window is over. */
export function nextAttemptAt(failedAttempts: number, windowStartedAt: Date, now: Date, policy: RetryPolicy, random?: () => number): Date | null {
  if (now.getTime() - windowStartedAt.getTime() >= policy.forMs) return null;
  return new Date(now.getTime() + retryDelayMs(failedAttempts, policy, random));
}
