/**
 * Ordered, retrying writes for a running bot. A bot must keep recording while the database
 * is briefly unreachable: its status changes and transcript segments wait here, in order,
 * and are written when the database answers again. `drain` waits for all of them.
 */
import type { Logger } from '../lib/log.js';

type Op = { name: string; run: () => Promise<void>; done: () => void };

export class WriteQueue {
  #ops: Op[] = [];
  #running = false;
  #idle: (() => void)[] = [];
  #closed = false;

  constructor(
    private readonly log: Logger,
    private readonly maxBackoffMs = 5000,
  ) {}

  /** Queues a write; the promise settles once it has been written (it never rejects). */
  push(name: string, run: () => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((done) => {
      this.#ops.push({ name, run, done });
      void this.#pump();
    });
  }

  get pending(): number {
    return this.#ops.length;
  }

  /** Resolves when every queued write is done, or after timeoutMs (returns false then). */
  drain(timeoutMs = 60_000): Promise<boolean> {
    if (!this.#running && this.#ops.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /**
   * Gives up on whatever is still queued (after a drain timed out at shutdown, or when a later
   * attempt owns the bot) and drops every later write; their promises resolve unwritten.
   */
  close(): void {
    this.#closed = true;
    // The write in flight (if any) finishes on its own; the rest are dropped.
    const dropped = this.#ops.splice(this.#running ? 1 : 0);
    for (const op of dropped) op.done();
  }

  async #pump() {
    if (this.#running) return;
    this.#running = true;
    let backoff = 250;
    while (this.#ops.length > 0 && !this.#closed) {
      const op = this.#ops[0]!;
      try {
        await op.run();
        this.#ops.shift();
        op.done();
        backoff = 250;
      } catch (err) {
        this.log.warn({ err, op: op.name, pending: this.#ops.length }, 'write failed; retrying');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(this.maxBackoffMs, backoff * 2);
      }
    }
    if (this.#closed) for (const op of this.#ops.splice(0)) op.done();
    this.#running = false;
    for (const f of this.#idle.splice(0)) f();
  }
}
