/**
 * The Hono app: request ids, security headers, CORS, body limits, authentication for /v1,
 * every route (one file each, registered in api/routes/index.ts), the OpenAPI document and
 * the one error handler that renders the envelope.
 */
import { createNodeWebSocket } from '@hono/node-ws';
import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { Context } from 'hono';
import { authenticate } from './auth/middleware.js';
import { createRouter, type AppEnv, type Services } from './context.js';
import { ApiError, type ErrorCode, type ErrorEnvelope } from './errors.js';
import { registerRoutes } from './routes/index.js';
import { registerWebhooks } from './webhooks/index.js';

/** The subprotocol a browser names (with its `bearer.<token>`) to open GET /v1/bots/:id/live; the server answers with it. */
export const LIVE_SUBPROTOCOL = 'notula.live.v1';

/** POST /v1/bots/:id/documents (api/routes/bots.documents.create.ts). */
const DOCUMENT_UPLOAD = /^\/v1\/bots\/[^/]+\/documents\/?$/;

/** /v1 paths that need no credentials (the OAuth callbacks are reached by the user's browser; their state names the user). */
const PUBLIC_V1 = new Set(['/v1/auth/register', '/v1/auth/login', '/v1/auth/refresh', '/v1/calendars/google/callback', '/v1/calendars/microsoft/callback']);

export function createApp(services: Services) {
  const app = createRouter();
  // WebSocket upgrades (GET /v1/bots/:id/live) run through this app — middleware, auth and the
  // route — before the handshake completes; injectWebSocket(server) attaches it to the server.
  const nodeWs = createNodeWebSocket({ app });
  // Only our subprotocol is ever echoed; `bearer.<token>` (the credential) never is.
  nodeWs.wss.options.handleProtocols = (protocols: Set<string>) => (protocols.has(LIVE_SUBPROTOCOL) ? LIVE_SUBPROTOCOL : false);
  // Clients have nothing to say on the live stream; refuse large frames instead of buffering 100 MiB (ws's default).
  nodeWs.wss.options.maxPayload = 4096;

  app.use(
    requestId({
      // Accept a caller's id only when it is short and plain (Hono's default check), else mint one.
      generator: () => crypto.randomUUID(),
    }),
  );
  app.use(async (c, next) => {
    c.set('services', services);
    await next();
  });
  app.use(secureHeaders({ crossOriginResourcePolicy: 'same-origin', xFrameOptions: 'DENY', referrerPolicy: 'no-referrer' }));
  if (services.config.CORS_ORIGINS.length > 0) {
    app.use(
      cors({
        origin: services.config.CORS_ORIGINS,
        allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
        exposeHeaders: ['X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
        maxAge: 600,
      }),
    );
  }
  const limitBody = bodyLimit({
    maxSize: services.config.BODY_LIMIT_BYTES,
    onError: () => {
      throw new ApiError('payload_too_large', `request body is larger than ${services.config.BODY_LIMIT_BYTES} bytes`);
    },
  });
  // Document uploads have their own, larger limit (DOCUMENT_MAX_BYTES, on their route).
  app.use((c, next) => (c.req.method === 'POST' && DOCUMENT_UPLOAD.test(c.req.path) ? next() : limitBody(c, next)));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = Math.round(performance.now() - started);
    const level = c.res.status >= 500 ? 'error' : 'debug';
    services.log[level]({ requestId: c.var.requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request');
  });
  app.use('/v1/*', async (c, next) => {
    if (PUBLIC_V1.has(c.req.path)) return next();
    return authenticate(c, next);
  });

  registerRoutes(app, { upgradeWebSocket: nodeWs.upgradeWebSocket });
  // Inbound provider webhooks: outside /v1 (no bearer) and outside the public OpenAPI document.
  registerWebhooks(app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`ntl_…`) or an access token from /v1/auth/login',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Notula API', version: '1', description: 'Meeting bots that record, transcribe and summarise.' },
    servers: [{ url: services.config.PUBLIC_URL }],
  });

  app.notFound((c) => renderError(c, new ApiError('not_found', `no route for ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => renderError(c, err));
  return Object.assign(app, { injectWebSocket: nodeWs.injectWebSocket });
}

export type App = ReturnType<typeof createApp>;

function renderError(c: Context<AppEnv>, err: Error): Response {
  const requestId = c.var.requestId ?? 'unknown';
  let apiError: ApiError;
  if (err instanceof ApiError) apiError = err;
  else if (err instanceof HTTPException) apiError = fromHttpException(err);
  else {
    c.var.services?.log.error({ err, requestId, path: c.req.path }, 'unhandled error');
    apiError = new ApiError('internal_error', 'something went wrong on our side; the request id identifies it in our logs');
  }
  const body: ErrorEnvelope = {
    error: {
      code: apiError.code,
      message: apiError.message,
      request_id: requestId,
      ...(apiError.details !== undefined ? { details: apiError.details } : {}),
    },
  };
  for (const [k, v] of Object.entries(apiError.headers ?? {})) c.header(k, v);
  return c.json(body, apiError.status);
}

/** Hono's own exceptions (malformed JSON, wrong content type, body limits) in our vocabulary. */
function fromHttpException(err: HTTPException): ApiError {
  const byStatus: Partial<Record<number, ErrorCode>> = {
    400: /JSON/i.test(err.message) ? 'invalid_json' : 'validation_failed',
    401: 'unauthorized',
    404: 'not_found',
    405: 'method_not_allowed',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
  };
  const code = byStatus[err.status] ?? (err.status >= 500 ? 'internal_error' : 'validation_failed');
  const message =
    code === 'invalid_json'
      ? 'request body is not valid JSON'
      : code === 'unsupported_media_type'
        ? 'send the body as JSON with Content-Type: application/json'
        : err.message || code;
  return new ApiError(code, message);
}

