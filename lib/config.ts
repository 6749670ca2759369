/**
 * The one configuration module. Every setting Notula reads from the environment is declared
 * here, parsed once at boot and handed to the code that needs it; nothing else reads
 * `process.env`. A wrong or missing setting fails at boot with the variable's name.
 */
import { z } from 'zod';

/** "true"/"1"/"yes" → true, "false"/"0"/"no"/"" → false; anything else is an error. */
const boolEnv = (fallback: boolean) =>
  z
    .preprocess((v) => {
      if (v === undefined) return fallback;
      if (typeof v === 'boolean') return v;
      const s = String(v).trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off', ''].includes(s)) return false;
      return v;
    }, z.boolean({ error: 'expected true or false' }));

const port = z.coerce.number().int().min(0).max(65535);

/** `host=origin,host=origin`: where the bot's browser navigates instead of the real platform (tests, offline evaluation). */
const hostOverrides = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const map = new Map<string, string>();
    for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      const eq = pair.indexOf('=');
      const host = pair.slice(0, eq).trim().toLowerCase();
      const origin = pair.slice(eq + 1).trim();
      let parsed: URL | undefined;
      try {
        parsed = eq > 0 ? new URL(origin) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!host || !parsed || !/^https?:$/.test(parsed.protocol)) {
        ctx.addIssue({ code: 'custom', message: `expected host=http(s)://origin, got "${pair}"` });
        return z.NEVER;
      }
      map.set(host, parsed.origin);
    }
    return map;
  });

/** An optional string where an empty value means unset. */
const optionalString = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().min(1).optional());

const csv = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean));

export const ConfigSchema = z
  .object({
    /** development | test | production; production requires ENCRYPTION_KEY and PUBLIC_URL. */
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    /** API port. */
    PORT: port.default(3001),
    /** Interface the API binds to. */
    HOST: z.string().default('0.0.0.0'),
    /** Externally reachable base URL (OAuth redirects, push-notification addresses, links in mail). */
    PUBLIC_URL: z.url().optional(),
    /** Embedded Postgres data, recordings and debug artifacts live here. */
    DATA_DIR: z.string().min(1).default('./data'),
    /** Use this Postgres instead of starting the embedded one. */
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional(),
    /** Port of the embedded Postgres (only when DATABASE_URL is unset). */
    EMBEDDED_PG_PORT: port.default(54329),
    /** Largest pool of Postgres connections per process. */
    DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(200).default(10),
    /** 32 random bytes, base64, or file:///path holding them: encrypts secrets at rest and signs tokens. */
    ENCRYPTION_KEY: z.string().optional(),
    /** pino level. */
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Browser origins allowed to call the API (comma-separated); empty allows none. */
    CORS_ORIGINS: csv,
    /** Largest request body the API accepts, in bytes. */
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
    /** Attempts per minute per client address on login/register/refresh. */
    RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().min(1).default(20),
    /** Requests per minute per API key or user on /v1. */
    RATE_LIMIT_API_PER_MINUTE: z.coerce.number().int().min(1).default(600),
    /** Bots one worker process runs at once. */
    BOT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    /** How often an idle bot worker looks for due bots (ms); NOTIFY wakes it sooner. */
    BOT_POLL_INTERVAL_MS: z.coerce.number().int().min(500).max(60_000).default(1000),
    /** Run Chromium headless instead of headful under Xvfb. */
    BOT_HEADLESS: boolEnv(false),
    /** Chromium binary. */
    BOT_CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
    /** Keep Chromium's sandbox (needs a non-root user and a kernel that allows it). */
    BOT_CHROMIUM_SANDBOX: boolEnv(false),
    /** An X display to use for headful bots; unset starts a private Xvfb. */
    BOT_DISPLAY: z.string().optional(),
    /** Test hook: host=origin pairs the bot's browser is sent to instead of the real platform. */
    BOT_HOST_OVERRIDES: hostOverrides,
    /** Seconds a bot may spend from launch to the lobby or the call before it gives up with join_timeout. */
    BOT_JOIN_TIMEOUT_S: z.coerce.number().int().min(10).default(120),
    /** Private runtime directory of the bots' PulseAudio server (keep it short: it holds a unix socket). */
    BOT_PULSE_RUNTIME_DIR: z.string().default('/tmp/notula-pulse'),
    /** Directory holding the pocketsphinx en-us model. */
    POCKETSPHINX_MODEL_DIR: z.string().default('/usr/share/pocketsphinx/model/en-us'),
    /**
     * Niceness of the live pocketsphinx decoder (0–19). It can fall behind and catch up
     * without losing a word, while the browser and ffmpeg must keep real time: on a loaded
     * machine the decoder yields the CPU to them.
     */
    POCKETSPHINX_NICE: z.coerce.number().int().min(0).max(19).default(10),
    /** AssemblyAI key for workspaces that have not stored their own (BYOK); unset: only workspace keys. */
    ASSEMBLYAI_API_KEY: z.string().trim().min(1).optional(),
    /** AssemblyAI REST API (uploads, file transcripts); tests point it at a local fake. */
    ASSEMBLYAI_BASE_URL: z.url().default('https://api.assemblyai.com'),
    /** AssemblyAI streaming WebSocket (wss://); unset: wss://streaming.assemblyai.com/v3/ws, or /v3/ws on ASSEMBLYAI_BASE_URL's host when that is set. */
    ASSEMBLYAI_STREAMING_URL: z.url().optional(),
    /** OpenAI key for workspaces that have not stored their own (BYOK); also used by summaries. */
    OPENAI_API_KEY: z.string().trim().min(1).optional(),
    /** OpenAI API base URL (with /v1); tests point it at a local fake. */
    OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
    /** OpenAI transcription model: whisper-1 returns word times; gpt-4o-transcribe / gpt-4o-mini-transcribe do not (times are estimated). */
    OPENAI_TRANSCRIBE_MODEL: z.string().trim().min(1).default('whisper-1'),
    /** First retry delay (seconds, doubling with jitter) of the job that redoes a transcript with the cloud provider after a mid-meeting fallback. */
    TRANSCRIPT_REDO_RETRY_DELAY_S: z.coerce.number().int().min(1).max(3600).default(60),
    /** Retries of that job before the transcript is redone from the recording with the local engine instead (8 ≈ 4–8 h). */
    TRANSCRIPT_REDO_RETRY_LIMIT: z.coerce.number().int().min(0).max(16).default(8),
    /** Allow webhook URLs on loopback/private addresses (development, tests). */
    WEBHOOKS_ALLOW_PRIVATE: boolEnv(false),
    /** Milliseconds one webhook attempt may take (connect, send, response) before it counts as failed. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
    /** Milliseconds before the first webhook retry; each further retry doubles it (with jitter). */
    WEBHOOK_RETRY_FIRST_DELAY_MS: z.coerce.number().int().min(10).default(30_000),
    /** Longest wait between two webhook retries, in milliseconds. */
    WEBHOOK_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(10).default(4 * 3600_000),
    /** Webhook retries continue until this many milliseconds after the first attempt (at least 24 h in production). */
    WEBHOOK_RETRY_FOR_MS: z.coerce.number().int().min(100).default(24 * 3600_000),
    /** Webhook deliveries one scheduler process makes at once. */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    /** How often idle webhook workers look for due retries (ms); new events wake them at once. */
    WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(500).max(60_000).default(2000),
    /** Bytes a live-stream socket may hold unsent before the server stops pushing; it resumes from the event log once the client has read them. */
    LIVE_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
    /** Milliseconds between pings on a live-stream socket; a socket that has not answered the previous ping is closed. */
    LIVE_PING_INTERVAL_MS: z.coerce.number().int().min(200).default(25_000),
    /** Seconds between a running bot's heartbeats (bots.heartbeat_at). */
    BOT_HEARTBEAT_INTERVAL_S: z.coerce.number().int().min(1).max(300).default(10),
    /** A live bot whose heartbeat is older than this has lost its worker: the scheduler fails its job so another worker rejoins. */
    BOT_HEARTBEAT_STALE_S: z.coerce.number().int().min(2).max(3600).default(90),
    /** Seconds between the scheduler's sweeps for bots with a stale heartbeat. */
    BOT_SWEEP_INTERVAL_S: z.coerce.number().int().min(1).max(600).default(15),
    /** Chat model that writes summaries (must support JSON-schema structured output). */
    SUMMARY_OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
    /** Input tokens per summary request; longer transcripts are summarised in parts, then combined. */
    SUMMARY_MAX_INPUT_TOKENS: z.coerce.number().int().min(500).max(1_000_000).default(12_000),
    /** Seconds one OpenAI summary request may take before the offline summariser stands in. */
    SUMMARY_OPENAI_TIMEOUT_S: z.coerce.number().int().min(1).max(600).default(90),
    /** Largest document a meeting accepts (PDF, DOCX, TXT, MD), in bytes. */
    DOCUMENT_MAX_BYTES: z.coerce.number().int().min(1024).max(200 * 1024 * 1024).default(10 * 1024 * 1024),
    /** Extracted text kept per document (characters); the rest is cut. */
    DOCUMENT_MAX_TEXT_CHARS: z.coerce.number().int().min(1000).default(500_000),
    /** Seconds the process waits for bots to leave and finalize on shutdown. */
    SHUTDOWN_GRACE_S: z.coerce.number().int().min(1).default(60),
    /** Zoom Meeting SDK key: with it, Zoom bots join through the official Meeting SDK (for current "General" Marketplace apps this is the app's Client ID). */
    ZOOM_SDK_KEY: z.string().trim().min(1).optional(),
    /** Zoom Meeting SDK secret, signs the SDK's join JWT (for current "General" apps: the app's Client Secret). Set both or neither. */
    ZOOM_SDK_SECRET: z.string().trim().min(1).optional(),

    /** Google OAuth client id (Calendar auto-join); Google calendars are off without it. */
    GOOGLE_CLIENT_ID: optionalString,
    /** Google OAuth client secret. */
    GOOGLE_CLIENT_SECRET: optionalString,
    /** Root of Google's APIs (googleapis `rootUrl`); tests point it at a local fake. */
    GOOGLE_API_ROOT_URL: z.url().default('https://www.googleapis.com/'),
    /** Google OAuth endpoints: unset uses accounts.google.com + oauth2.googleapis.com; set serves /o/oauth2/v2/auth, /token and /revoke from this origin (a fake). */
    GOOGLE_OAUTH_BASE_URL: z.url().optional(),
    /** Microsoft (Entra ID) application id (Outlook calendar auto-join); Microsoft calendars are off without it. */
    MICROSOFT_CLIENT_ID: optionalString,
    /** Microsoft application client secret. */
    MICROSOFT_CLIENT_SECRET: optionalString,
    /** Entra tenant for sign-in: common (any work or personal account), organizations, or a tenant id. */
    MICROSOFT_TENANT: z.string().regex(/^[\w.-]+$/, 'expected common, organizations, consumers or a tenant id').default('common'),
    /** Microsoft Graph base URL (must be https: the Graph client refuses others). */
    MICROSOFT_GRAPH_BASE_URL: z.url().default('https://graph.microsoft.com'),
    /** Microsoft identity platform base URL (authorize and token endpoints). */
    MICROSOFT_LOGIN_BASE_URL: z.url().default('https://login.microsoftonline.com'),
    /** Seconds before a calendar meeting's start its bot joins. */
    CALENDAR_JOIN_LEAD_S: z.coerce.number().int().min(0).max(3600).default(60),
    /** Push notifications for one calendar within this many seconds coalesce into one sync (the first runs at once). */
    CALENDAR_SYNC_DEBOUNCE_S: z.coerce.number().int().min(1).max(300).default(10),
    /** Calendar syncs one scheduler process runs at once. */
    CALENDAR_SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    /** Minutes between incremental syncs of a calendar that has no working push channel. */
    CALENDAR_POLL_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.ENCRYPTION_KEY) {
      ctx.addIssue({ code: 'custom', path: ['ENCRYPTION_KEY'], message: 'required in production' });
    }
    if (c.NODE_ENV === 'production' && !c.PUBLIC_URL) {
      ctx.addIssue({ code: 'custom', path: ['PUBLIC_URL'], message: 'required in production' });
    }
    if (c.NODE_ENV === 'production' && c.WEBHOOK_RETRY_FOR_MS < 24 * 3600_000) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_RETRY_FOR_MS'], message: 'must be at least 86400000 (24 h) in production' });
    }
    if (c.WEBHOOK_RETRY_MAX_DELAY_MS < c.WEBHOOK_RETRY_FIRST_DELAY_MS) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_RETRY_MAX_DELAY_MS'], message: 'must not be below WEBHOOK_RETRY_FIRST_DELAY_MS' });
    }
    for (const p of ['GOOGLE', 'MICROSOFT'] as const) {
      const id = c[`${p}_CLIENT_ID`];
      const secret = c[`${p}_CLIENT_SECRET`];
      if (Boolean(id) !== Boolean(secret)) {
        ctx.addIssue({ code: 'custom', path: [id ? `${p}_CLIENT_SECRET` : `${p}_CLIENT_ID`], message: `set both ${p}_CLIENT_ID and ${p}_CLIENT_SECRET, or neither` });
      }
    }
    if (!c.MICROSOFT_GRAPH_BASE_URL.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['MICROSOFT_GRAPH_BASE_URL'], message: 'must be an https:// URL (the Graph client sends credentials only over https)' });
    }
    if (c.BOT_HEARTBEAT_STALE_S < 2 * c.BOT_HEARTBEAT_INTERVAL_S) {
      // One late or failed heartbeat must not make a live bot look abandoned.
      ctx.addIssue({ code: 'custom', path: ['BOT_HEARTBEAT_STALE_S'], message: `must be at least twice BOT_HEARTBEAT_INTERVAL_S (${c.BOT_HEARTBEAT_INTERVAL_S})` });
    }
    if (c.NODE_ENV === 'production' && c.BOT_HOST_OVERRIDES.size > 0) {
      ctx.addIssue({ code: 'custom', path: ['BOT_HOST_OVERRIDES'], message: 'is a test hook and must not be set in production' });
    }
    if (Boolean(c.ZOOM_SDK_KEY) !== Boolean(c.ZOOM_SDK_SECRET)) {
      const missing = c.ZOOM_SDK_KEY ? 'ZOOM_SDK_SECRET' : 'ZOOM_SDK_KEY';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'set ZOOM_SDK_KEY and ZOOM_SDK_SECRET together, or neither' });
    }
    if (c.ASSEMBLYAI_STREAMING_URL && !c.ASSEMBLYAI_STREAMING_URL.startsWith('wss://')) {
      ctx.addIssue({ code: 'custom', path: ['ASSEMBLYAI_STREAMING_URL'], message: 'expected a wss:// URL (the SDK accepts nothing else)' });
    }
  })
  .transform((c) => ({
    ...c,
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    ASSEMBLYAI_BASE_URL: c.ASSEMBLYAI_BASE_URL.replace(/\/+$/, ''),
    ASSEMBLYAI_STREAMING_URL: c.ASSEMBLYAI_STREAMING_URL ?? assemblyAiStreamingUrl(c.ASSEMBLYAI_BASE_URL),
    OPENAI_BASE_URL: c.OPENAI_BASE_URL.replace(/\/+$/, ''),
  }));

/** The streaming endpoint that goes with a REST base URL: the real service's own host, or the same host (a fake, a proxy). */
function assemblyAiStreamingUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  if (u.hostname === 'api.assemblyai.com') return 'wss://streaming.assemblyai.com/v3/ws';
  if (u.hostname === 'api.eu.assemblyai.com') return 'wss://streaming.eu.assemblyai.com/v3/ws';
  return `wss://${u.host}/v3/ws`;
}

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}
