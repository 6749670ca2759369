/** The database handle every role shares: a pg Pool, drizzle on top, and migrations. */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { projectPath } from '../paths.js';
import * as schema from './schema.js';

export { schema };
export type Db = NodePgDatabase<typeof schema>;
/** A drizzle handle or a transaction on it. */
export type DbOrTx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  url: string;
  pool: pg.Pool;
  db: Db;
  close(): Promise<void>;
}

export function openDatabase(url: string, opts: { max?: number; applicationName?: string } = {}): Database {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, application_name: opts.applicationName ?? 'notula' });
  // A client losing its connection (database restart) must not crash the process: idle ones
  // report to the pool; checked-out ones (a transaction between two queries) emit on
  // themselves, where pg has no listener of its own. The query in flight still rejects.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = drizzle(pool, { schema });
  return { url, pool, db, close: () => pool.end() };
}

export const MIGRATIONS_DIR = projectPath('migrations');

/** Applies pending migrations; an advisory lock keeps concurrently starting roles from racing. */
export async function runMigrations(database: Database): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query('select pg_advisory_lock(7263510)');
    await migrate(drizzle(client, { schema }), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.query('select pg_advisory_unlock(7263510)').catch(() => undefined);
    client.release();
  }
}

/** The same server address with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
