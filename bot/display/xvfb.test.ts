import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { ensureDisplay } from './xvfb.js';

const execFileP = promisify(execFile);

describe('ensureDisplay', () => {
  it('returns a given display untouched', async () => {
    const d = await ensureDisplay({ display: ':42', log: silentLogger });
    expect(d.display).toBe(':42');
    await d.stop();
  });

  it('starts one shared Xvfb, reuses it, and stops it with the last handle', async () => {
    const [a, b] = await Promise.all([ensureDisplay({ log: silentLogger }), ensureDisplay({ log: silentLogger })]);
    expect(a.display).toMatch(/^:\d+$/);
    expect(b.display).toBe(a.display);
    const n = a.display.slice(1);
    expect(existsSync(`/tmp/.X11-unix/X${n}`)).toBe(true);
    const { stdout } = await execFileP('xdpyinfo', ['-display', a.display]);
    expect(stdout).toMatch(/dimensions:\s+1280x800 pixels/);
    expect(stdout).toMatch(/depth of root window:\s+24 planes/);

    await a.stop();
    await a.stop(); // idempotent, and b still holds it
    await execFileP('xdpyinfo', ['-display', b.display]);
    await b.stop();
    expect(existsSync(`/tmp/.X11-unix/X${n}`)).toBe(false);

    // A later call starts a new one.
    const c = await ensureDisplay({ log: silentLogger });
    await execFileP('xdpyinfo', ['-display', c.display]);
    await c.stop();
  });

  it('skips a display number another process holds', async () => {
    // Occupy :99 (or whatever is first free) with a foreign Xvfb, as another tool would.
    const first = await ensureDisplay({ log: silentLogger });
    const n = Number(first.display.slice(1));
    await first.stop();
    const foreign = spawn('Xvfb', [`:${n}`, '-displayfd', '1', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => foreign.stdout.once('data', resolve));
      const d = await ensureDisplay({ log: silentLogger });
      expect(d.display).not.toBe(`:${n}`);
      await execFileP('xdpyinfo', ['-display', d.display]);
      await d.stop();
    } finally {
      foreign.kill('SIGKILL');
    }
  });
});
