/** What every request handler can reach: the services bag and the authenticated principal. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { UpgradeWebSocket } from 'hono/ws';
import type { Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import type { Config } from '../lib/config.js';
import type { Database, Db } from '../lib/db/index.js';
import type { Logger } from '../lib/log.js';
import type { SecretBox } from '../lib/secrets.js';
import type { RecordingStore } from '../recordings/store.js';
import type { BotDispatcher } from '../scheduler/bot-dispatcher.js';
import type { WebhookQueue } from '../scheduler/webhook-queue.js';
import type { LiveStreams } from './live/live-streams.js';
import type { Resolver } from './webhooks/url-guard.js';
import type { CalendarService } from '../scheduler/calendar/service.js';
import type { PostMeetingQueue } from '../scheduler/post-meeting/post-meeting-queue.js';
import type { TokenService } from './auth/tokens.js';
import type { RateLimiter } from './auth/rate-limit.js';
import { ApiError, zodIssues } from './errors.js';
import { findUnstorable } from './input-guard.js';

export interface Services {
  config: Config;
  /** The pool, for transactions shared with pg-boss (lib/db/transaction.ts). */
  database: Database;
  db: Db;
  log: Logger;
  secrets: SecretBox;
  tokens: TokenService;
  store: RecordingStore;
  bots: BotDispatcher;
  /** Connected calendars: OAuth connect, sync requests from push notifications, removal. */
  calendars: CalendarService;
  /** Queues a meeting's analytics and summary (regenerate). */
  postMeeting: PostMeetingQueue;
  rateLimiter: RateLimiter;
  metrics: Registry;
  /** The live streams of this process (GET /v1/bots/:id/live). */
  live: LiveStreams;
  /** Queues webhook attempts (manual redelivery). */
  webhooks: WebhookQueue;
  /** DNS for the webhook SSRF guard; the system resolver when unset. */
  resolveHost?: Resolver;
  /** false while the process drains on shutdown (readiness). */
  isReady(): Promise<boolean>;
}

export type Role = 'owner' | 'admin' | 'member';

export type Principal =
  | { type: 'user'; userId: string; sessionId: string; workspaceId: string; role: Role }
  | { type: 'api_key'; keyId: string; workspaceId: string };

export interface AppEnv {
  Variables: {
    services: Services;
    requestId: string;
    principal: Principal;
  };
}

/**
 * An OpenAPIHono whose validation failures share the error envelope. Input that passes its
 * schema but cannot be stored (NUL, lone surrogates, absurd nesting) fails here too, for every
 * route and every part (body, query, path).
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const { message, details } = zodIssues(result.error);
        throw new ApiError('validation_failed', message, details);
      }
      const problem = findUnstorable(result.data);
      if (problem) throw new ApiError('validation_failed', `${problem.path}: ${problem.message}`, [problem]);
    },
  });
}

export type Router = ReturnType<typeof createRouter>;

/** What route files get besides the router (the WebSocket upgrade of @hono/node-ws). */
export interface RouteDeps {
  upgradeWebSocket: UpgradeWebSocket<WebSocket, { onError: (err: unknown) => void }>;
}
