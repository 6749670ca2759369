/** Structured logging (pino, NDJSON on stdout). Secrets are redacted by path; never log tokens. */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.apiKey',
  '*.api_key',
  '*.secret',
  '*.encryptionKey',
  // Provider keys (BYOK and environment) and the headers the SDKs carry them in.
  'apiKey',
  'api_key',
  '*.keySealed',
  '*.ASSEMBLYAI_API_KEY',
  '*.OPENAI_API_KEY',
  '*.headers.authorization',
  '*.headers.Authorization',
];

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { ...base }, redact: { paths: REDACT, censor: '[redacted]' } });
}

/** A logger that drops everything (unit tests that don't care about logs). */
export const silentLogger: Logger = pino({ level: 'silent' });
