/**
 * Roles that start together against one fresh database (an api container and a worker
 * container, a deploy) both set up pg-boss: its schema, the cron queue a scheduler's start()
 * creates, and Notula's queues. None of them may fail at boot. Real Postgres, real pg-boss.
 */
import type PgBoss from 'pg-boss';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { createTestDatabase } from '../test/harness/db.js';
import { startBoss } from './boss.js';
import { QUEUES } from './queues.js';

describe('startBoss', () => {
  it('starts a scheduler and two other roles at once on a fresh database, every queue created once', async () => {
    for (let round = 0; round < 4; round++) {
      const database = await createTestDatabase();
      const started: PgBoss[] = [];
      try {
        const results = await Promise.allSettled(
          [true, false, false].map((supervise) => startBoss({ url: database.url, log: silentLogger, supervise }).then((b) => started.push(b))),
        );
        expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
        const queues = (await database.pool.query<{ name: string }>('select name from pgboss.queue order by name')).rows.map((r) => r.name);
        for (const def of Object.values(QUEUES)) expect(queues.filter((q) => q === def.name)).toHaveLength(1);
        expect(queues).toContain('__pgboss__send-it');
      } finally {
        for (const b of started) await b.stop({ graceful: false, wait: true }).catch(() => undefined);
        await database.drop();
      }
    }
  }, 120_000);
});
