/**
 * A transaction that drizzle and raw SQL (pg-boss's `db` option) share, so a row and the job
 * that acts on it commit or roll back together.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Database, Db } from './index.js';
import { schema } from './index.js';

export interface SqlExecutor {
  executeSql(text: string, values: unknown[]): Promise<{ rows: any[] }>;
}

export async function inTransaction<T>(database: Pick<Database, 'pool'>, fn: (tx: Db, sql: SqlExecutor) => Promise<T>): Promise<T> {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    const result = await fn(drizzle(client, { schema }), { executeSql: (text, values) => client.query(text, values) });
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The pool under a drizzle handle made by openDatabase (drizzle keeps it as `$client`). */
export function poolOf(db: Db): pg.Pool {
  const client = (db as Db & { $client?: unknown }).$client;
  if (!client || typeof (client as pg.Pool).connect !== 'function' || !('totalCount' in (client as object))) {
    throw new Error('this database handle is not backed by a pool');
  }
  return client as pg.Pool;
}
