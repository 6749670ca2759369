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
    /** Allow webhook URLs on loopback/private addresses (development, tests). */
    WEBHOOKS_ALLOW_PRIVATE: boolEnv(false),
    /** OpenAI API key for meeting summaries; unset uses the offline summariser (a workspace's own key may take precedence: scheduler/post-meeting/openai-key.ts). */
    OPENAI_API_KEY: z.string().min(1).optional(),
    /** Base URL of the OpenAI API (tests point it at a local fake). */
    OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
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
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.ENCRYPTION_KEY) {
      ctx.addIssue({ code: 'custom', path: ['ENCRYPTION_KEY'], message: 'required in production' });
    }
    if (c.NODE_ENV === 'production' && !c.PUBLIC_URL) {
      ctx.addIssue({ code: 'custom', path: ['PUBLIC_URL'], message: 'required in production' });
    }
    if (c.NODE_ENV === 'production' && c.BOT_HOST_OVERRIDES.size > 0) {
      ctx.addIssue({ code: 'custom', path: ['BOT_HOST_OVERRIDES'], message: 'is a test hook and must not be set in production' });
    }
  })
  .transform((c) => ({ ...c, PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, '') }));

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
