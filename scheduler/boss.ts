/** pg-boss in its own schema of the shared database. */
import PgBoss from 'pg-boss';
import type { Logger } from '../lib/log.js';
import { createQueues } from './queues.js';

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
  await boss.start();
  await createQueues(boss);
  return boss;
}
