/**
 * The start command as an operator runs it: `main.ts` in its own process, on its embedded
 * defaults (a real Postgres under DATA_DIR, a generated development key), restarted over the
 * same data; bad settings and arguments stop it at boot naming the variable; roles started
 * alone against a shared DATABASE_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../lib/paths.js';
import { createTestDatabase, type TestDatabase } from '../harness/db.js';

const TSX = projectPath('node_modules', '.bin', 'tsx');
const MAIN = projectPath('main.ts');

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startMain(args: string[], env: Record<string, string>): Running {
  const child = spawn(TSX, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForOutput(r: Running, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(r.output())) return r.output();
    if (r.child.exitCode !== null) throw new Error(`exited ${r.child.exitCode} before ${pattern}:\n${r.output()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${r.output()}`);
}

async function stopMain(r: Running): Promise<number | null> {
  if (r.child.exitCode === null) r.child.kill('SIGTERM');
  return r.exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const post = (url: string, body: unknown, token?: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'notula-start-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('the start command', () => {
  it('starts every role on an embedded Postgres under DATA_DIR, prints how to begin, and keeps its data across a restart', async () => {
    const port = await freePort();
    const env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_PG_PORT: String(await freePort()),
      BOT_HEADLESS: 'true',
    };
    const first = startMain([], env);
    try {
      const out = await waitForOutput(first, /Get a first API key/);
      expect(out).toContain(`http://localhost:${port}`);
      expect(out).toContain('/v1/auth/register');
      expect(out).toMatch(/ENCRYPTION_KEY is not set: generated one/);
      expect(existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
      const key = await readFile(path.join(dataDir, 'encryption.key'), 'utf8');
      expect(Buffer.from(key.trim(), 'base64')).toHaveLength(32);

      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const reg = await post(`${base}/v1/auth/register`, { email: 'ops@example.com', password: 'Correct-Horse-Battery-9' });
      expect(reg.status).toBe(201);
    } finally {
      expect(await stopMain(first)).toBe(0);
    }

    const second = startMain([], env);
    try {
      const out = await waitForOutput(second, /Get a first API key/);
      // Same key file, no new warning; the user registered before the restart can log in.
      expect(out).not.toMatch(/generated one/);
      const login = await post(`http://127.0.0.1:${port}/v1/auth/login`, { email: 'ops@example.com', password: 'Correct-Horse-Battery-9' });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { access_token: string }).access_token).toBeTruthy();
    } finally {
      expect(await stopMain(second)).toBe(0);
    }
  }, 180_000);

  it('refuses bad settings and arguments at boot, naming them', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [[], { NODE_ENV: 'production', DATA_DIR: dataDir, PUBLIC_URL: 'https://notula.example.com' }, /ENCRYPTION_KEY: required in production/],
      [[], { PORT: 'eighty', DATA_DIR: dataDir }, /PORT:/],
      [[], { BOT_CONCURRENCY: '0', DATA_DIR: dataDir }, /BOT_CONCURRENCY:/],
      [[], { ENCRYPTION_KEY: 'c2hvcnQ=', DATA_DIR: dataDir }, /ENCRYPTION_KEY: .*32 bytes/],
      [['--role', 'dashboard'], { DATA_DIR: dataDir }, /--role must be one of api, scheduler, bot/],
    ];
    for (const [args, env, pattern] of cases) {
      const r = startMain(args, env);
      expect(await r.exited, r.output()).toBe(2);
      expect(r.output()).toMatch(pattern);
    }
  }, 120_000); // five boots of the whole app, on a busy machine

  describe('roles alone against one DATABASE_URL', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('runs the api in one process and the scheduler and a bot worker in another', async () => {
      const port = await freePort();
      const common = { DATABASE_URL: database.url, ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), DATA_DIR: dataDir, BOT_HEADLESS: 'true' };
      const api = startMain(['--role', 'api'], { ...common, PORT: String(port), HOST: '127.0.0.1' });
      const workers = startMain(['--role', 'scheduler,bot'], { ...common, LOG_LEVEL: 'info' });
      try {
        await waitForOutput(api, /Notula is running \(api\)/);
        await waitForOutput(workers, /Notula started/);
        // The worker process serves no HTTP; the api process does, on the shared database.
        expect(workers.output()).not.toContain('Get a first API key');
        const reg = await post(`http://127.0.0.1:${port}/v1/auth/register`, { email: 'split@example.com', password: 'Correct-Horse-Battery-9' });
        expect(reg.status).toBe(201);
        const rows = await database.pool.query('select email from users');
        expect(rows.rows.map((r) => r.email)).toEqual(['split@example.com']);
      } finally {
        expect(await stopMain(api), api.output()).toBe(0);
        expect(await stopMain(workers), workers.output()).toBe(0);
      }
    }, 120_000);
  });
});
