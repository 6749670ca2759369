/**
 * The runner's recovery of a bot whose worker died after the call ended but before the
 * recording was final: the retried job only finalizes (from the parts in the store; the dead
 * worker's disk is gone) and ends the bot done. Real database, real ffmpeg, the filesystem
 * store; no browser or audio server is touched on this path.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../lib/config.js';
import { Notifications } from '../lib/db/notifications.js';
import { bots, botStatusEvents, recordings, workspaces } from '../lib/db/schema.js';
import { newId } from '../lib/ids.js';
import { silentLogger } from '../lib/log.js';
import { openRecordingPart, partsPrefix } from '../recordings/parts.js';
import { recordingKey } from '../recordings/spool.js';
import { FsRecordingStore } from '../recordings/store.js';
import { createTestDatabase, type TestDatabase } from '../test/harness/db.js';
import { runBot, type BotRuntime } from './run-bot.js';

const execFileP = promisify(execFile);
let database: TestDatabase;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'notula-runbot-'));
});
afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('runBot', () => {
  it('finalizes a bot whose worker was lost after call_ended, from the store, and ends it done', async () => {
    const store = new FsRecordingStore(path.join(dir, 'store'));
    const workspaceId = newId('ws');
    const botId = newId('bot');
    await database.db.insert(workspaces).values({ id: workspaceId, name: 'w' });
    await database.db.insert(bots).values({
      id: botId,
      workspaceId,
      meetingUrl: 'https://meet.google.com/abc-defg-hij',
      meeting: { platform: 'google_meet', code: 'abc-defg-hij' },
      platform: 'google_meet',
      botName: 'Notula',
      joinAt: new Date(),
      status: 'call_ended',
      subCode: 'everyone_left',
      transcription: {},
      automaticLeave: {},
    });
    await database.db.insert(recordings).values({ botId, status: 'recording', startedAt: new Date() });
    // What the dead worker recorded and shipped: 6 s in 2 s segments. Its disk is gone.
    const deadSpool = path.join(dir, 'dead-spool');
    const part = await openRecordingPart({ botId, store, spoolDir: deadSpool, log: silentLogger, minOffsetMs: 0 });
    await execFileP('ffmpeg', [
      '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=48000', '-t', '6', '-ac', '1',
      '-c:a', 'libopus', '-b:a', '32k', '-f', 'segment', '-segment_time', '2', '-segment_format', 'ogg', '-reset_timestamps', '1',
      path.join(part.dir, 'seg-%05d.ogg'),
    ]);
    for (const f of ['seg-00000.ogg', 'seg-00001.ogg', 'seg-00002.ogg']) part.ship(path.join(part.dir, f));
    expect(await part.drain(10_000)).toBe(true);
    await rm(deadSpool, { recursive: true, force: true });

    const notifications = new Notifications(database.url, silentLogger);
    const rt: BotRuntime = {
      config: loadConfig({ NODE_ENV: 'test', DATA_DIR: dir }),
      db: database.db,
      log: silentLogger,
      store,
      transcriberFor: () => {
        throw new Error('the live transcript is kept; nothing to transcribe');
      },
      pulse: { env: {} },
      display: undefined,
      browsers: {
        launch: () => {
          throw new Error('finalizing needs no browser');
        },
      },
      adapters: {},
      notifications,
      workerId: 'test-worker',
      spoolDir: path.join(dir, 'new-spool'),
    };
    const result = await runBot(rt, botId, new AbortController().signal);
    expect(result.retry).toBe(false);

    const [row] = await database.db.select().from(bots).where(eq(bots.id, botId));
    expect(row!.status).toBe('done');
    const history = await database.db.select().from(botStatusEvents).where(eq(botStatusEvents.botId, botId));
    expect(history.map((h) => h.code)).toEqual(['done']);
    const [rec] = await database.db.select().from(recordings).where(eq(recordings.botId, botId));
    expect(rec).toMatchObject({ status: 'ready', storageKey: recordingKey(botId) });
    expect(Math.abs(rec!.durationMs! - 6000)).toBeLessThanOrEqual(40);
    expect(await store.stat(recordingKey(botId))).toMatchObject({ sizeBytes: rec!.sizeBytes });
    await expect.poll(() => store.list(partsPrefix(botId))).toEqual([]);
  });
});
