import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/harness/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('openDatabase', () => {
  it('survives the server dropping a connection a transaction holds between two queries', async () => {
    const client = await database.pool.connect();
    await client.query('begin');
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    // Another session ends this one, as a database restart would, while nothing is in flight on it.
    await database.pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    await new Promise((r) => setTimeout(r, 300));
    // The next query fails as a value; the process did not crash on the client's 'error' event.
    await expect(client.query('select 1')).rejects.toThrow();
    client.release(true);
    expect((await database.pool.query('select 1 as one')).rows[0].one).toBe(1);
  });
});
