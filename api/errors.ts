/**
 * The closed set of error codes the API answers with, and the one envelope they share:
 * `{"error":{"code","message","request_id"}}`. Handlers throw ApiError; everything else that
 * escapes is logged and rendered as internal_error without internals.
 */
import { z } from '@hono/zod-openapi';

export const ERROR_STATUS = {
  invalid_json: 400,
  validation_failed: 400,
  /** An OAuth callback whose state is unknown, used, expired or for another provider. */
  oauth_state_invalid: 400,
  /** The user declined the provider's consent, or unticked the access Notula needs. */
  oauth_denied: 400,
  /** The provider refused to trade the code for tokens. */
  oauth_failed: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  token_expired: 401,
  token_malformed: 401,
  token_invalid_signature: 401,
  token_revoked: 401,
  totp_required: 401,
  totp_invalid: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  email_taken: 409,
  invalid_state: 409,
  not_ready: 409,
  /** A feature whose credentials are not set (on this server: GOOGLE_CLIENT_ID, …; or for the workspace: a provider key). */
  provider_not_configured: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  invalid_meeting_url: 422,
  /** A webhook URL that is malformed or points at a loopback/private/metadata address (SSRF guard). */
  invalid_webhook_url: 422,
  /** An uploaded document of a type we take (PDF, DOCX) that cannot be read. */
  invalid_document: 422,
  weak_password: 422,
  /** A WebSocket endpoint (GET /v1/bots/:id/live) called without an Upgrade: websocket request. */
  upgrade_required: 426,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: (typeof ERROR_STATUS)[ErrorCode];

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what: string) => new ApiError('not_found', `${what} not found`);

/** A cloud transcription provider was asked for, but neither the workspace nor the server has its key. */
export const providerNotConfigured = (provider: 'assemblyai' | 'openai') =>
  new ApiError(
    'provider_not_configured',
    `no ${provider} API key: store one with PUT /v1/workspace/providers/${provider} or set ${provider === 'assemblyai' ? 'ASSEMBLYAI_API_KEY' : 'OPENAI_API_KEY'} on the server`,
  );

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string(),
      request_id: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/** Shared OpenAPI error responses for route definitions. */
export const errorResponses = Object.fromEntries(
  [400, 401, 403, 404, 409, 413, 415, 416, 422, 429, 500, 503].map((status) => [
    status,
    { description: 'Error', content: { 'application/json': { schema: ErrorEnvelopeSchema } } },
  ]),
);

/** Turns zod issues into a short message and a list of `{path, message}`. */
export function zodIssues(error: z.ZodError): { message: string; details: { path: string; message: string }[] } {
  const details = error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  const message = details
    .slice(0, 3)
    .map((d) => `${d.path}: ${d.message}`)
    .join('; ');
  return { message: message || 'invalid request', details };
}
