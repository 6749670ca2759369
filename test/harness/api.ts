/**
 * The API over a fresh real database and a real pg-boss, called in-process through
 * `app.request` (no sockets). Tests use `call` and the account helpers; `listen()` serves it
 * over real HTTP too (WebSocket tests).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type PgBoss from 'pg-boss';
import { createApp, type App } from '../../api/app.js';
import { LiveStreams, liveSettingsFrom, type LiveSettings } from '../../api/live/live-streams.js';
import type { Resolver } from '../../api/webhooks/url-guard.js';
import { MemoryRateLimiter } from '../../api/auth/rate-limit.js';
import { TokenService } from '../../api/auth/tokens.js';
import type { Services } from '../../api/context.js';
import { loadConfig, type Config } from '../../lib/config.js';
import { Notifications } from '../../lib/db/notifications.js';
import { silentLogger } from '../../lib/log.js';
import { createMetrics } from '../../lib/metrics.js';
import { SecretBox } from '../../lib/secrets.js';
import { FsRecordingStore } from '../../recordings/store.js';
import { PgBossBotDispatcher } from '../../scheduler/bot-dispatcher.js';
import { CalendarService } from '../../scheduler/calendar/service.js';
import { PgBossPostMeetingQueue } from '../../scheduler/post-meeting/post-meeting-queue.js';
import { startBoss } from '../../scheduler/boss.js';
import { PgBossWebhookQueue } from '../../scheduler/webhook-queue.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface CallResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface TestApi {
  app: App;
  services: Services;
  database: TestDatabase;
  boss: PgBoss;
  config: Config;
  masterKey: Buffer;
  notifications: Notifications;
  live: LiveStreams;
  webhookQueue: PgBossWebhookQueue;
  /** Serves the app over real HTTP (with WebSockets) on 127.0.0.1; returns its base URL. */
  listen(): Promise<string>;
  call<T = any>(method: string, path: string, opts?: { json?: unknown; body?: BodyInit; token?: string; headers?: Record<string, string> }): Promise<CallResult<T>>;
  /** Registers a fresh user; returns their tokens and ids. */
  signUp(opts?: { email?: string; password?: string }): Promise<{ email: string; password: string; access: string; refresh: string; userId: string; workspaceId: string }>;
  /** A fresh user's workspace API key. */
  apiKey(): Promise<{ key: string; workspaceId: string; access: string }>;
  close(): Promise<void>;
}

export const STRONG_PASSWORD = 'Correct-Horse-Battery-9';

export async function createTestApi(
  env: Record<string, string> = {},
  opts: { resolveHost?: Resolver; live?: Partial<LiveSettings> } = {},
): Promise<TestApi> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'notula-api-'));
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, RATE_LIMIT_AUTH_PER_MINUTE: '1000', ...env });
  const boss = await startBoss({ url: database.url, log: silentLogger, supervise: false });
  const masterKey = randomBytes(32);
  const notifications = new Notifications(database.url, silentLogger);
  await notifications.start();
  const live = new LiveStreams(database.db, notifications, { ...liveSettingsFrom(config), ...opts.live }, silentLogger);
  const webhookQueue = new PgBossWebhookQueue(boss);
  const secrets = new SecretBox(masterKey);
  const dispatcher = new PgBossBotDispatcher(boss);
  const services: Services = {
    config,
    database,
    db: database.db,
    log: silentLogger,
    secrets,
    tokens: new TokenService(masterKey, database.db),
    store: new FsRecordingStore(path.join(dataDir, 'recordings')),
    bots: dispatcher,
    calendars: new CalendarService({ config, database, boss, secrets, dispatcher, log: silentLogger }),
    postMeeting: new PgBossPostMeetingQueue(boss),
    rateLimiter: new MemoryRateLimiter(),
    metrics: createMetrics().registry,
    live,
    webhooks: webhookQueue,
    resolveHost: opts.resolveHost,
    isReady: async () => true,
  };
  const app = createApp(services);
  let server: ServerType | undefined;
  const listen = async () => {
    if (!server) {
      server = await new Promise<ServerType>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      app.injectWebSocket(server);
    }
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const call: TestApi['call'] = async (method, p, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.json);
    }
    const res = await app.request(p, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed as any, text, headers: res.headers };
  };

  const signUp: TestApi['signUp'] = async (o = {}) => {
    const email = o.email ?? `user-${randomBytes(4).toString('hex')}@example.com`;
    const password = o.password ?? STRONG_PASSWORD;
    const res = await call('POST', '/v1/auth/register', { json: { email, password, name: 'Test User' } });
    if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
    return { email, password, access: res.body.access_token, refresh: res.body.refresh_token, userId: res.body.user.id, workspaceId: res.body.workspace.id };
  };

  const apiKey: TestApi['apiKey'] = async () => {
    const u = await signUp();
    const res = await call('POST', '/v1/api-keys', { token: u.access, json: { name: 'test' } });
    if (res.status !== 201) throw new Error(`api key failed: ${res.status} ${res.text}`);
    return { key: res.body.key, workspaceId: u.workspaceId, access: u.access };
  };

  return {
    app,
    services,
    database,
    boss,
    config,
    masterKey,
    notifications,
    live,
    webhookQueue,
    listen,
    call,
    signUp,
    apiKey,
    async close() {
      await live.closeAll(500);
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await notifications.close();
      await boss.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => undefined);
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
