/**
 * The master key for secrets at rest. Production requires ENCRYPTION_KEY (base64 of 32
 * bytes, or file:///path). In development a key is generated once and kept in DATA_DIR, with
 * a loud warning: losing that file makes stored secrets unreadable.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type Config } from './config.js';
import type { Logger } from './log.js';

function decode(raw: string, source: string): Buffer {
  const key = Buffer.from(raw.trim(), 'base64');
  if (key.length !== 32) throw new ConfigError(`invalid configuration:\n  ENCRYPTION_KEY: ${source} must hold 32 bytes, base64 (openssl rand -base64 32)`);
  return key;
}

export async function resolveEncryptionKey(config: Config, log: Logger): Promise<Buffer> {
  const value = config.ENCRYPTION_KEY;
  if (value?.startsWith('file://')) {
    const file = fileURLToPath(value);
    const raw = await readFile(file, 'utf8').catch(() => {
      throw new ConfigError(`invalid configuration:\n  ENCRYPTION_KEY: cannot read ${file}`);
    });
    return decode(raw, file);
  }
  if (value) return decode(value, 'the value');
  const file = path.resolve(config.DATA_DIR, 'encryption.key');
  if (existsSync(file)) return decode(await readFile(file, 'utf8'), file);
  await mkdir(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, key.toString('base64') + '\n', { mode: 0o600 });
  log.warn(
    { file },
    '!!! ENCRYPTION_KEY is not set: generated one for development and saved it. Back it up, or set ENCRYPTION_KEY; production refuses to start without it.',
  );
  return key;
}
