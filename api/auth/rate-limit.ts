/**
 * Fixed-window rate limits keyed by client address (auth endpoints) or principal (/v1). The
 * memory adapter is per process; a shared adapter can implement the same port when the API
 * runs as several replicas.
 */
export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  resetInSeconds: number;
}

export interface RateLimiter {
  hit(key: string, limitPerMinute: number): RateLimitResult;
}

export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  hit(key: string, limitPerMinute: number): RateLimitResult {
    const now = this.now();
    const windowStart = now - (now % 60_000);
    let w = this.#windows.get(key);
    if (!w || w.start !== windowStart) {
      if (this.#windows.size > 50_000) this.#sweep(windowStart);
      w = { start: windowStart, count: 0 };
      this.#windows.set(key, w);
    }
    w.count += 1;
    return {
      allowed: w.count <= limitPerMinute,
      remaining: Math.max(0, limitPerMinute - w.count),
      resetInSeconds: Math.ceil((windowStart + 60_000 - now) / 1000),
    };
  }

  #sweep(current: number) {
    for (const [k, w] of this.#windows) if (w.start !== current) this.#windows.delete(k);
  }
}
