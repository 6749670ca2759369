import { describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { WriteQueue } from './write-queue.js';

describe('WriteQueue', () => {
  it('keeps order and retries a failing write until it succeeds', async () => {
    const q = new WriteQueue(silentLogger, 20);
    const written: number[] = [];
    let failures = 3;
    void q.push('a', async () => {
      if (failures-- > 0) throw new Error('database down');
      written.push(1);
    });
    void q.push('b', async () => {
      written.push(2);
    });
    expect(await q.drain(5000)).toBe(true);
    expect(written).toEqual([1, 2]);
    expect(q.pending).toBe(0);
  });

  it('reports a drain that times out', async () => {
    const q = new WriteQueue(silentLogger, 20);
    void q.push('never', async () => {
      throw new Error('down');
    });
    expect(await q.drain(100)).toBe(false);
    expect(q.pending).toBe(1);
    q.close();
  });

  it('once closed, settles what it dropped and writes nothing more', async () => {
    const q = new WriteQueue(silentLogger, 20);
    const written: string[] = [];
    let release!: () => void;
    const inFlight = q.push('in flight', () => new Promise<void>((r) => (release = () => (written.push('in flight'), r()))));
    const queued = q.push('queued', async () => void written.push('queued'));
    const failing = new WriteQueue(silentLogger, 20);
    const retried = failing.push('down', async () => {
      throw new Error('down');
    });
    await new Promise((r) => setTimeout(r, 50));
    q.close();
    failing.close();
    await queued; // settles without running
    const later = q.push('later', async () => void written.push('later'));
    await later;
    release();
    await inFlight;
    await retried;
    expect(await q.drain(1000)).toBe(true);
    expect(written).toEqual(['in flight']);
    expect(q.pending + failing.pending).toBe(0);
  });
});
