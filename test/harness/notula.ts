/**
 * A whole Notula (api + scheduler + bot roles) in this process, over a fresh test database
 * and a temporary DATA_DIR (or given ones, to restart over the same data), reached over real
 * HTTP. End-to-end tests and benchmarks use it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import { ROLES, startNotula, type Notula, type RoleName, type StartOptions } from '../../start.js';
import type { TestDatabase } from './postgres.js';

export interface TestNotula {
  notula: Notula;
  url: string;
  dataDir: string;
  database: TestDatabase;
  /** JSON over HTTP with an API key. */
  api<T = any>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }>;
  key: string;
  /** The registered owner's access token (routes that need a user, e.g. owner/admin ones). */
  access: string;
  /** JSON over HTTP as the owner. */
  userApi<T = any>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export interface TestNotulaOptions {
  /** Use this database (kept on stop) instead of a fresh one (dropped on stop). */
  database?: TestDatabase;
  /** Use this DATA_DIR (kept on stop) instead of a fresh temporary one (removed on stop). */
  dataDir?: string;
  /** Call the API with this key (a user of an earlier Notula on the same database) instead of registering a new user. */
  key?: string;
  /** Roles to run (default: all). */
  roles?: readonly RoleName[];
  /** Test hooks of the composition root. */
  start?: Pick<StartOptions, 'browsers' | 'zoomSdkAssets'>;
}

export async function startTestNotula(env: Record<string, string> = {}, opts: TestNotulaOptions = {}): Promise<TestNotula> {
  // db.ts needs the vitest runner; benchmarks pass their own database.
  const database = opts.database ?? (await (await import('./db.js')).createTestDatabase());
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'notula-e2e-')));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    BOT_POLL_INTERVAL_MS: '500',
    LOG_LEVEL: process.env.NOTULA_TEST_LOG ?? 'silent',
    ...env,
  });
  const notula = await startNotula({ config, roles: new Set(opts.roles ?? ROLES), log: createLogger(config.LOG_LEVEL), ...opts.start });
  const url = notula.url ?? 'http://api-role-not-running.invalid';
  const raw = async (method: string, p: string, body?: unknown, token?: string) => {
    const res = await fetch(url + p, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  let key = opts.key ?? '';
  // The registered user's access token (owner-only routes); empty when reusing an earlier Notula's key.
  let access = '';
  if (!opts.key && notula.url) {
    const reg = await raw('POST', '/v1/auth/register', { email: `e2e-${Date.now()}@example.com`, password: 'Correct-Horse-Battery-9' });
    access = reg.body.access_token as string;
    key = (await raw('POST', '/v1/api-keys', { name: 'e2e' }, access)).body.key as string;
  }
  return {
    notula,
    url,
    dataDir,
    database,
    key,
    access,
    api: (method, p, body) => raw(method, p, body, key),
    userApi: (method, p, body) => raw(method, p, body, access),
    async stop() {
      await notula.stop();
      if (!opts.database) await database.drop();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `pred` holds for the bot; returns the last bot JSON. */
export async function waitForBot(t: TestNotula, botId: string, pred: (bot: any) => boolean, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let bot: any;
  while (Date.now() < deadline) {
    bot = (await t.api('GET', `/v1/bots/${botId}`)).body;
    if (pred(bot)) return bot;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`bot ${botId} never matched; last status ${JSON.stringify(bot?.status)} history ${JSON.stringify(bot?.status_history?.map((h: any) => h.code))}`);
}

/** A database and a DATA_DIR that outlive one Notula (a restart, a takeover); `cleanups` gets what removes them. */
export async function sharedState(cleanups: (() => Promise<unknown>)[]): Promise<{ database: TestDatabase; dataDir: string }> {
  const database = await (await import('./db.js')).createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'notula-shared-'));
  cleanups.push(async () => {
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { database, dataDir };
}

/** `POST /v1/bots`; answers the new bot's id, and throws unless the API said 201. */
export async function sendBot(t: TestNotula, body: Record<string, unknown>): Promise<string> {
  const created = await t.api('POST', '/v1/bots', body);
  if (created.status !== 201) throw new Error(`POST /v1/bots answered ${created.status}: ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}
