/**
 * Real Postgres for tests and benchmarks: one server per run (embedded, or the one
 * TEST_DATABASE_URL names), a migrated template database, and a fresh clone of it per test
 * file or benchmark. Vitest reaches it through global-setup.ts and db.ts; benchmarks call it
 * directly.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../lib/db/embedded.js';
import { openDatabase, runMigrations, withDatabase, type Database } from '../../lib/db/index.js';
import { silentLogger } from '../../lib/log.js';
import { projectPath } from '../../lib/paths.js';

export const TEMPLATE_DB = 'notula_template';

export interface TestPostgres {
  /** A superuser URL on the server (its default database). */
  adminUrl: string;
  stop(): Promise<void>;
}

export interface TestDatabase extends Database {
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Starts the run's server (unless TEST_DATABASE_URL names one) and migrates the template once. */
export async function startTestPostgres(name: string, env: Record<string, string | undefined> = process.env): Promise<TestPostgres> {
  let adminUrl = env.TEST_DATABASE_URL;
  let stopServer = async () => {};
  if (!adminUrl) {
    const dir = projectPath('.tmp', `${name}-pg-${process.pid}`);
    await rm(dir, { recursive: true, force: true });
    // Below Linux's ephemeral range (32768–60999), where an outgoing connection could hold the port.
    const embedded = await startEmbeddedPostgres({ dataDir: dir, port: 20000 + (process.pid % 10000), log: silentLogger });
    adminUrl = embedded.url;
    stopServer = async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  await withAdmin(adminUrl, async (c) => {
    await c.query(`drop database if exists ${TEMPLATE_DB}`);
    await c.query(`create database ${TEMPLATE_DB}`);
  });
  const template = openDatabase(withDatabase(adminUrl, TEMPLATE_DB), { max: 2 });
  await runMigrations(template);
  await template.close();
  return { adminUrl, stop: stopServer };
}

/** A fresh, migrated database cloned from the template. */
export async function cloneTestDatabase(adminUrl: string, opts: { max?: number } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`create database ${name} template ${TEMPLATE_DB}`));
  const database = openDatabase(withDatabase(adminUrl, name), { max: opts.max ?? 8 });
  return {
    ...database,
    name,
    async drop() {
      await database.close();
      await withAdmin(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}
