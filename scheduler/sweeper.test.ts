/**
 * The heartbeat sweeper against a real database and a real pg-boss: a live bot whose
 * heartbeat went stale has its job failed (pg-boss retries it) and goes back to joining_call
 * with the reason in its history; fresh heartbeats and finished bots are left alone; a bot
 * whose retries are used up ends fatal; after a database outage (when nobody could
 * heartbeat) it waits one stale period before it declares anyone lost.
 */
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../lib/db/schema.js';
import { bots, botStatusEvents, workspaces } from '../lib/db/schema.js';
import { newId } from '../lib/ids.js';
import { silentLogger } from '../lib/log.js';
import { createTestDatabase, type TestDatabase } from '../test/harness/db.js';
import { startBoss } from './boss.js';
import { QUEUES } from './queues.js';
import { BotSweeper } from './sweeper.js';

let database: TestDatabase;
let boss: PgBoss;
let workspaceId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startBoss({ url: database.url, log: silentLogger, supervise: false });
  workspaceId = newId('ws');
  await database.db.insert(workspaces).values({ id: workspaceId, name: 'sweeper' });
});
afterAll(async () => {
  await boss?.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => undefined);
  await database?.drop();
});

/** A bot in `status` whose job is fetched (active) by a worker that last heartbeat `heartbeatAgoMs` ago. */
async function runningBot(status: string, heartbeatAgoMs: number, opts: { retryLimit?: number } = {}) {
  const id = newId('bot');
  const jobId = (await boss.send(QUEUES.botJoin.name, { botId: id }, { singletonKey: id, retryLimit: opts.retryLimit ?? 2, retryDelay: 1 }))!;
  const [job] = await boss.fetch(QUEUES.botJoin.name, { batchSize: 1 });
  expect(job?.id).toBe(jobId);
  await database.db.insert(bots).values({
    id,
    workspaceId,
    meetingUrl: 'https://meet.google.com/abc-defg-hij',
    meeting: { platform: 'google_meet', code: 'abc-defg-hij' },
    platform: 'google_meet',
    botName: 'Notula',
    joinAt: new Date(),
    status,
    transcription: {},
    automaticLeave: {},
    jobId,
    heartbeatAt: new Date(Date.now() - heartbeatAgoMs),
  });
  return { id, jobId };
}

const events = (botId: string) => database.db.select().from(botStatusEvents).where(eq(botStatusEvents.botId, botId)).orderBy(botStatusEvents.id);
const botRow = async (botId: string) => (await database.db.select().from(bots).where(eq(bots.id, botId)))[0]!;

describe('BotSweeper', () => {
  it('fails the job of a bot whose heartbeat is stale, so pg-boss retries it, and says so in its history', async () => {
    const sweeper = new BotSweeper(database.db, boss, silentLogger, { intervalMs: 1000, staleAfterMs: 5000 });
    const lost = await runningBot('in_call_recording', 6000);
    const alive = await runningBot('in_call_recording', 1000);
    const found = await sweeper.sweep();
    expect(found).toContain(lost.id);
    expect(found).not.toContain(alive.id);
    expect((await boss.getJobById(QUEUES.botJoin.name, lost.jobId))?.state).toBe('retry');
    expect((await boss.getJobById(QUEUES.botJoin.name, alive.jobId))?.state).toBe('active');
    const row = await botRow(lost.id);
    expect(row.status).toBe('joining_call');
    expect(Date.now() - row.heartbeatAt!.getTime()).toBeLessThan(2000); // the retry gets a stale period to start
    expect((await events(lost.id)).map((e) => [e.code, e.message])).toEqual([['joining_call', 'worker lost (no heartbeat for 5 s); rejoining on another worker']]);
    expect((await botRow(alive.id)).status).toBe('in_call_recording');
    // The next pass leaves it alone: its job is waiting for the retry.
    expect(await sweeper.sweep()).not.toContain(lost.id);
    expect(await events(lost.id)).toHaveLength(1);
  });

  it('ends a lost bot fatal once its job has no retries left, and leaves finished bots alone', async () => {
    const sweeper = new BotSweeper(database.db, boss, silentLogger, { intervalMs: 1000, staleAfterMs: 5000 });
    const lost = await runningBot('in_call_recording', 6000, { retryLimit: 0 });
    const ended = await runningBot('done', 60_000);
    await sweeper.sweep(); // fails the job for good
    expect((await boss.getJobById(QUEUES.botJoin.name, lost.jobId))?.state).toBe('failed');
    await database.db.update(bots).set({ heartbeatAt: new Date(Date.now() - 6000) }).where(eq(bots.id, lost.id));
    await sweeper.sweep();
    expect(await botRow(lost.id)).toMatchObject({ status: 'fatal', subCode: 'browser_crashed' });
    expect((await events(lost.id)).map((e) => e.code)).toEqual(['joining_call', 'fatal']);
    expect((await botRow(ended.id)).status).toBe('done');
    expect(await events(ended.id)).toEqual([]);
  });

  it('retries the job of a bot lost while finalizing after its call ended, keeping its status', async () => {
    const sweeper = new BotSweeper(database.db, boss, silentLogger, { intervalMs: 1000, staleAfterMs: 5000 });
    const lost = await runningBot('call_ended', 6000);
    expect(await sweeper.sweep()).toContain(lost.id);
    expect((await boss.getJobById(QUEUES.botJoin.name, lost.jobId))?.state).toBe('retry');
    const row = await botRow(lost.id);
    expect(row.status).toBe('call_ended');
    expect(Date.now() - row.heartbeatAt!.getTime()).toBeLessThan(2000);
    expect(await events(lost.id)).toEqual([]);
  });

  it('after a database outage, gives workers one stale period to heartbeat before it declares a bot lost', async () => {
    // The sweeper's own connections, to a port where nothing listens during the "outage".
    const down = new URL(database.url);
    down.port = '1';
    const pool = new pg.Pool({ connectionString: down.toString(), max: 1, idleTimeoutMillis: 1 });
    pool.on('error', () => undefined);
    try {
      const sweeper = new BotSweeper(drizzle(pool, { schema }), boss, silentLogger, { intervalMs: 1000, staleAfterMs: 1500 });
      const lost = await runningBot('in_call_recording', 10_000);
      await expect(sweeper.sweep()).rejects.toThrow();
      pool.options.connectionString = database.url; // the database is back
      expect(await sweeper.sweep()).toEqual([]);
      expect((await botRow(lost.id)).status).toBe('in_call_recording');
      await new Promise((r) => setTimeout(r, 1600));
      expect(await sweeper.sweep()).toContain(lost.id);
      expect((await botRow(lost.id)).status).toBe('joining_call');
    } finally {
      await pool.end();
    }
  });
});
