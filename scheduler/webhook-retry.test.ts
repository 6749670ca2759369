/** The webhook retry schedule: exponential, capped, jittered, and retrying for at least 24 h with the default settings. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../lib/config.js';
import { nextAttemptAt, retryDelayMs, retryPolicyFrom, type RetryPolicy } from './webhook-retry.js';

const policy = retryPolicyFrom(loadConfig({ NODE_ENV: 'production', ENCRYPTION_KEY: 'x', PUBLIC_URL: 'https://notula.example.com' }));

/** Every attempt time (ms after the first) until the schedule gives up. */
function schedule(p: RetryPolicy, random: () => number): number[] {
  const start = new Date(0);
  const times = [0];
  for (let failed = 1; failed < 1000; failed++) {
    const next = nextAttemptAt(failed, start, new Date(times.at(-1)!), p, random);
    if (!next) return times;
    times.push(next.getTime());
  }
  throw new Error('the schedule never ends');
}

describe('webhook retry schedule', () => {
  it('defaults to 30 s doubling up to 4 h', () => {
    expect(policy).toEqual({ firstDelayMs: 30_000, maxDelayMs: 4 * 3600_000, forMs: 24 * 3600_000 });
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, () => 1))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(12, policy, () => 1)).toBe(4 * 3600_000);
    expect(retryDelayMs(400, policy, () => 1)).toBe(4 * 3600_000);
  });

  it('jitters each delay within its upper half', () => {
    for (const n of [1, 5, 20]) {
      const full = retryDelayMs(n, policy, () => 1);
      expect(retryDelayMs(n, policy, () => 0)).toBe(full / 2);
      const seen = new Set(Array.from({ length: 50 }, () => retryDelayMs(n, policy)));
      expect(seen.size).toBeGreaterThan(10);
      for (const d of seen) {
        expect(d).toBeGreaterThanOrEqual(full / 2);
        expect(d).toBeLessThanOrEqual(full);
      }
    }
  });

  it.each([
    ['the shortest jitter', () => 0],
    ['the longest jitter', () => 1],
    ['random jitter', Math.random],
  ])('keeps retrying for at least 24 h with %s, a bounded number of times', (_name, random) => {
    const times = schedule(policy, random);
    const last = times.at(-1)!;
    expect(last).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(last).toBeLessThan(24 * 3600_000 + 4 * 3600_000 + 1);
    expect(times.length).toBeGreaterThanOrEqual(14);
    expect(times.length).toBeLessThanOrEqual(22);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(4 * 3600_000);
  });

  it('compresses with the settings (what the delivery tests use)', () => {
    const fast = retryPolicyFrom(loadConfig({ WEBHOOK_RETRY_FIRST_DELAY_MS: '50', WEBHOOK_RETRY_MAX_DELAY_MS: '200', WEBHOOK_RETRY_FOR_MS: '2000' }));
    const times = schedule(fast, () => 1);
    expect(times.at(-1)).toBeGreaterThanOrEqual(2000);
    expect(times.at(-1)).toBeLessThan(2300);
  });

  it('refuses a production window under 24 h, and a cap below the first delay', () => {
    const prod = { NODE_ENV: 'production', ENCRYPTION_KEY: 'x', PUBLIC_URL: 'https://n.example.com' };
    expect(() => loadConfig({ ...prod, WEBHOOK_RETRY_FOR_MS: '3600000' })).toThrow(/WEBHOOK_RETRY_FOR_MS: must be at least 86400000/);
    expect(() => loadConfig({ WEBHOOK_RETRY_FIRST_DELAY_MS: '1000', WEBHOOK_RETRY_MAX_DELAY_MS: '500' })).toThrow(/WEBHOOK_RETRY_MAX_DELAY_MS/);
  });
});
