/** pg-boss in its own schema of the shared database. */
import PgBoss from 'pg-boss';
import pg from 'pg';
import type { Logger } from '../lib/log.js';
import { createQueues } from './queues.js';

/** Serializes queue creation across processes starting at once (pg-boss's createQueue deadlocks with itself). */
const QUEUES_LOCK = 7263511;

export async function startBoss(opts: { url: string; log: Logger; supervise: boolean }): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: opts.url,
    schema: 'pgboss',
    application_name: 'notula-boss',
    max: 4,
    // Only the scheduler role runs maintenance (expiry, archiving) and cron.
    supervise: opts.supervise,
    schedule: opts.supervise,
    migrate: true,
  });
  boss.on('error', (err) => opts.log.error({ err }, 'pg-boss error'));
  // Roles started together against one database (containers, a deploy) would otherwise race
  // in createQueue and one of them fail at boot with a deadlock. start() creates a queue too
  // (the cron queue, when `schedule` is on), so it runs under the lock as well.
  const lock = new pg.Client({ connectionString: opts.url, application_name: 'notula-boss-setup' });
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [QUEUES_LOCK]);
    await boss.start();
    await createQueues(boss);
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [QUEUES_LOCK]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
  return boss;
}
