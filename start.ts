/**
 * The composition root: builds every service a process needs for its roles (api,
 * scheduler, bot) and stops them in order. `main.ts` calls it from the command line; the
 * end-to-end tests and benchmarks call it in-process.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type PgBoss from 'pg-boss';
import { createApp } from './api/app.js';
import { LiveStreams, liveSettingsFrom } from './api/live/live-streams.js';
import { MemoryRateLimiter } from './api/auth/rate-limit.js';
import { TokenService } from './api/auth/tokens.js';
import type { Services } from './api/context.js';
import { ensurePulseAudio } from './bot/audio/pulse.js';
import { ChromiumLauncher, type BrowserLauncher } from './bot/browser.js';
import { ensureDisplay, type DisplayHandle } from './bot/display/xvfb.js';
import { InProcessLauncher } from './bot/launcher.js';
import { MeetAdapter } from './bot/platforms/meet/meet-adapter.js';
import type { SdkAssets } from './bot/platforms/zoom-sdk/page-server.js';
import { ZoomSdkAdapter } from './bot/platforms/zoom-sdk/zoom-sdk-adapter.js';
import { TeamsAdapter } from './bot/platforms/teams/teams-adapter.js';
import { ZoomWebAdapter } from './bot/platforms/zoom/zoom-adapter.js';
import { PocketsphinxTranscriber } from './bot/transcribe/pocketsphinx.js';
import { createTranscribers } from './bot/transcribe/providers.js';
import type { Config } from './lib/config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './lib/db/embedded.js';
import { openDatabase, runMigrations, type Database } from './lib/db/index.js';
import { Notifications } from './lib/db/notifications.js';
import { resolveEncryptionKey } from './lib/encryption-key.js';
import { createLogger, type Logger } from './lib/log.js';
import { createMetrics } from './lib/metrics.js';
import { SecretBox } from './lib/secrets.js';
import { FsRecordingStore } from './recordings/store.js';
import { PgBossBotDispatcher } from './scheduler/bot-dispatcher.js';
import { CalendarService } from './scheduler/calendar/service.js';
import { CalendarWorker } from './scheduler/calendar/worker.js';
import { startBoss } from './scheduler/boss.js';
import { BotWorkerPool } from './scheduler/bot-worker.js';
import { startPostMeetingWorker } from './scheduler/post-meeting/post-meeting-job.js';
import { PgBossPostMeetingQueue } from './scheduler/post-meeting/post-meeting-queue.js';
import { BotSweeper } from './scheduler/sweeper.js';
import { PgBossWebhookQueue } from './scheduler/webhook-queue.js';
import { startWebhookDelivery, type WebhookDelivery } from './scheduler/webhooks.js';
import { scheduleTranscriptRedo, startTranscriptRedoWorker } from './scheduler/transcript-redo.js';

export const ROLES = ['api', 'scheduler', 'bot'] as const;
export type RoleName = (typeof ROLES)[number];

export interface StartOptions {
  config: Config;
  roles: ReadonlySet<RoleName>;
  log?: Logger;
  /** Replaces Chromium (tests of the runner without a browser). */
  browsers?: BrowserLauncher;
  /** Test hook: where the Zoom Meeting SDK's scripts come from (a stand-in ZoomMtg); the installed @zoom/meetingsdk by default. */
  zoomSdkAssets?: SdkAssets;
}

export interface Notula {
  /** The API's base URL (when the api role runs). */
  url: string | undefined;
  database: Database;
  boss: PgBoss;
  log: Logger;
  stop(): Promise<void>;
}

export async function startNotula(opts: StartOptions): Promise<Notula> {
  const { config, roles } = opts;
  const log = opts.log ?? createLogger(config.LOG_LEVEL, { roles: [...roles].join(',') });
  const dataDir = path.resolve(config.DATA_DIR);
  const masterKey = await resolveEncryptionKey(config, log);

  let embedded: EmbeddedDatabase | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    if (roles.size < ROLES.length) log.warn('DATABASE_URL is not set: this role gets its own embedded Postgres, which other processes cannot share');
    embedded = await startEmbeddedPostgres({ dataDir, port: config.EMBEDDED_PG_PORT, log });
    url = embedded.url;
  }
  const database = openDatabase(url, { max: config.DATABASE_POOL_MAX });
  await runMigrations(database);
  const boss = await startBoss({ url, log, supervise: roles.has('scheduler') });
  const notifications = new Notifications(url, log);
  await notifications.start();

  const metrics = createMetrics();
  const store = new FsRecordingStore(path.join(dataDir, 'recordings'));
  const dispatcher = new PgBossBotDispatcher(boss);
  const secrets = new SecretBox(masterKey);
  const webhookQueue = new PgBossWebhookQueue(boss);
  const calendars = new CalendarService({ config, database, boss, secrets, dispatcher, log });
  const postMeeting = new PgBossPostMeetingQueue(boss);
  let draining = false;

  // --- api
  let server: ServerType | undefined;
  let apiUrl: string | undefined;
  let live: LiveStreams | undefined;
  if (roles.has('api')) {
    live = new LiveStreams(database.db, notifications, liveSettingsFrom(config), log);
    const services: Services = {
      config,
      database,
      db: database.db,
      log,
      secrets,
      tokens: new TokenService(masterKey, database.db),
      store,
      bots: dispatcher,
      calendars,
      postMeeting,
      rateLimiter: new MemoryRateLimiter(),
      metrics: metrics.registry,
      live,
      webhooks: webhookQueue,
      isReady: async () => !draining,
    };
    const app = createApp(services);
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
    });
    app.injectWebSocket(server);
    const port = (server.address() as AddressInfo).port;
    apiUrl = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  }

  // --- scheduler
  let sweeper: BotSweeper | undefined;
  let webhooks: WebhookDelivery | undefined;
  let calendarWorker: CalendarWorker | undefined;
  let stopPostMeeting: (() => Promise<void>) | undefined;
  if (roles.has('scheduler')) {
    sweeper = new BotSweeper(database.db, boss, log, { intervalMs: config.BOT_SWEEP_INTERVAL_S * 1000, staleAfterMs: config.BOT_HEARTBEAT_STALE_S * 1000 });
    sweeper.start();
    webhooks = await startWebhookDelivery({ config, database, boss, notifications, secrets, log, queue: webhookQueue });
    calendarWorker = new CalendarWorker(boss, calendars, { concurrency: config.CALENDAR_SYNC_CONCURRENCY, log });
    await calendarWorker.start();
    stopPostMeeting = await startPostMeetingWorker(boss, { db: database.db, config, secrets, log });
  }

  // --- bot workers
  let pool: BotWorkerPool | undefined;
  let display: DisplayHandle | undefined;
  let zoomSdk: ZoomSdkAdapter | undefined;
  if (roles.has('bot')) {
    const pulse = await ensurePulseAudio({ runtimeDir: config.BOT_PULSE_RUNTIME_DIR, log });
    if (!config.BOT_HEADLESS) display = await ensureDisplay({ display: config.BOT_DISPLAY, log });
    const local = new PocketsphinxTranscriber({ modelDir: config.POCKETSPHINX_MODEL_DIR, nice: config.POCKETSPHINX_NICE });
    const transcribers = createTranscribers({ config, db: database.db, secrets, local, log });
    // Transcripts to redo with a cloud provider after a mid-meeting fallback (needs the engines, so the bot role works them).
    await startTranscriptRedoWorker(boss, { config, db: database.db, store, transcribers, log });
    // With Meeting SDK credentials, Zoom bots join through the official SDK.
    if (config.ZOOM_SDK_KEY && config.ZOOM_SDK_SECRET) {
      zoomSdk = new ZoomSdkAdapter({ sdkKey: config.ZOOM_SDK_KEY, sdkSecret: config.ZOOM_SDK_SECRET, log, ...(opts.zoomSdkAssets ? { assets: opts.zoomSdkAssets } : {}) });
    }
    const launcher = new InProcessLauncher({
      config,
      db: database.db,
      log,
      store,
      transcriberFor: (bot) => transcribers.forBot(bot),
      scheduleTranscriptRedo: (botId, provider) => scheduleTranscriptRedo(boss, config, botId, provider),
      pulse,
      display: display?.display,
      browsers: opts.browsers ?? new ChromiumLauncher(),
      // Zoom: the Meeting SDK when its credentials are set, else the web client.
      adapters: { google_meet: new MeetAdapter(), microsoft_teams: new TeamsAdapter(), zoom: zoomSdk ?? new ZoomWebAdapter() },
      notifications,
      workerId: `${process.pid}-${randomUUID().slice(0, 8)}`,
      spoolDir: path.join(dataDir, 'spool'),
      metrics,
      postMeeting,
    });
    pool = new BotWorkerPool(boss, launcher, notifications, { concurrency: config.BOT_CONCURRENCY, pollIntervalMs: config.BOT_POLL_INTERVAL_MS, log });
    pool.start();
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // 1. Mark not ready, so load balancers stop sending requests.
      draining = true;
      // 2. Close live streams (1001: clients reconnect elsewhere with ?since), then stop
      //    accepting connections; in-flight requests finish.
      await live?.closeAll();
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      // 3. Bots stop taking work, leave their calls and keep what they recorded (their jobs retry later).
      await pool?.stop(config.SHUTDOWN_GRACE_S * 1000);
      // 3b. Then the Meeting SDK page those bots were on.
      await zoomSdk?.close();
      // 4. The scheduler's sweeps finish their pass; calendar syncs, the webhook fan-out and
      //    workers and the post-meeting worker stop taking work.
      await sweeper?.stop();
      await calendarWorker?.stop();
      await webhooks?.stop();
      await stopPostMeeting?.().catch((err) => log.warn({ err }, 'post-meeting worker stop'));
      // 5. Queue and notifications, then the pool, then the embedded server.
      await boss.stop({ graceful: true, timeout: 10_000, wait: true }).catch((err) => log.warn({ err }, 'pg-boss stop'));
      await notifications.close();
      await database.close();
      await display?.stop();
      await embedded?.stop();
    })());

  return { url: apiUrl, database, boss, log, stop };
}
