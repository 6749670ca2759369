/**
 * The X display the bots' headful Chromium draws on: a given one (`DISPLAY` from config), or
 * one Xvfb started on demand and shared by every bot of this process.
 *
 * The number: the first N from 99 up whose `/tmp/.X<N>-lock` and `/tmp/.X11-unix/X<N>` are
 * both absent. If another process takes the same N at the same moment, one Xvfb fails with
 * "server already running" (the socket is the arbiter; this Xvfb build writes no lock file)
 * and we try the next N. Readiness: Xvfb writes N to `-displayfd` only once it accepts
 * connections. Starts in ~30–150 ms here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from '../../lib/log.js';

export interface DisplayHandle {
  /** `:N`, the value for the browser's DISPLAY. */
  readonly display: string;
  /** Releases this handle; the shared Xvfb stops when the last handle of the process is released. Idempotent. */
  stop(): Promise<void>;
}

export interface EnsureDisplayOptions {
  /** Use this display as is (nothing is started or stopped). */
  display?: string;
  log: Logger;
  /** Screen geometry, default `1280x800x24`. */
  screen?: string;
  xvfbBin?: string;
  /** How long Xvfb may take to become ready (default 10 s). */
  timeoutMs?: number;
}

interface Shared {
  ready: Promise<string>;
  /** The Xvfb that is (being) started. */
  child?: ChildProcess;
  users: number;
  /** Set when it failed to start or exited afterwards: the next caller starts a new one. */
  dead: boolean;
}

let shared: Shared | undefined;

export async function ensureDisplay(opts: EnsureDisplayOptions): Promise<DisplayHandle> {
  if (opts.display) {
    const display = opts.display;
    return { display, stop: async () => undefined };
  }
  if (!shared || shared.dead) shared = startXvfb(opts);
  const mine = shared;
  mine.users++;
  let display: string;
  try {
    display = await mine.ready;
  } catch (err) {
    mine.users--;
    mine.dead = true;
    throw err;
  }
  let stopped = false;
  return {
    display,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (--mine.users > 0) return;
      mine.dead = true;
      if (mine.child) await killChild(mine.child);
    },
  };
}

const FIRST_DISPLAY = 99;
const MAX_TRIES = 100;

function startXvfb(opts: EnsureDisplayOptions): Shared {
  const self: Shared = { ready: Promise.resolve(''), users: 0, dead: false };
  self.ready = (async () => {
    let n = FIRST_DISPLAY;
    for (let tries = 0; tries < MAX_TRIES; tries++, n++) {
      if (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) continue;
      const attempt = tryXvfb(opts, n, () => {
        if (!self.dead) opts.log.warn({ display: `:${n}` }, 'Xvfb exited');
        self.dead = true;
      });
      self.child = attempt.child;
      const result = await attempt.result;
      if (result.ok) return result.display;
      if (!result.taken) throw new Error(result.message);
      opts.log.debug({ display: `:${n}` }, 'display taken meanwhile; trying the next');
    }
    throw new Error(`no free X display in :${FIRST_DISPLAY}..:${FIRST_DISPLAY + MAX_TRIES - 1}`);
  })();
  return self;
}

type Attempt = { ok: true; display: string } | { ok: false; taken: boolean; message: string };

function tryXvfb(opts: EnsureDisplayOptions, n: number, onDeathAfterReady: () => void): { child: ChildProcess; result: Promise<Attempt> } {
  const { log } = opts;
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const child = spawn(
    opts.xvfbBin ?? 'Xvfb',
    [`:${n}`, '-displayfd', '3', '-screen', '0', opts.screen ?? '1280x800x24', '-nolisten', 'tcp'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
  );
  // Don't let a forgotten display keep the process alive; kill it when the process exits.
  child.unref();
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));

  const result = new Promise<Attempt>((resolve) => {
    let stderr = '';
    let out = '';
    let settled = false;
    const settle = (a: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const err = child.stderr as Readable;
    err.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 8192) stderr += d;
    });
    const fd3 = child.stdio[3] as Readable;
    const timer = setTimeout(() => {
      settle({ ok: false, taken: false, message: `Xvfb :${n} not ready after ${timeoutMs} ms: ${stderr.trim()}` });
      child.kill('SIGKILL');
    }, timeoutMs);
    fd3.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/^\d+\n/.test(out)) {
        const display = `:${n}`;
        log.info({ display, pid: child.pid, ms: Date.now() - t0 }, 'Xvfb ready');
        settle({ ok: true, display });
      }
    });
    child.once('error', (e) => settle({ ok: false, taken: false, message: `cannot start Xvfb: ${e.message}` }));
    child.once('exit', (code, signal) => {
      if (settled) {
        onDeathAfterReady();
        return;
      }
      const taken = /already running|already active|Cannot establish any listening sockets/i.test(stderr);
      settle({ ok: false, taken, message: `Xvfb :${n} exited (${signal ?? code}) before it was ready: ${stderr.trim()}` });
    });
    for (const s of [err, fd3]) (s as unknown as { unref?: () => void }).unref?.();
  });
  return { child, result };
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
