/**
 * The event log: what BotRecords writes appears as events in order, in the same transaction;
 * sequence numbers commit in order under concurrent writers (a tailing reader sees no gap);
 * workspace events; NOTIFY on commit; deleting a bot's data strips the words from its events.
 */
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotRecords } from '../bot/bot-records.js';
import { createTestApi, type TestApi } from '../test/harness/api.js';
import { CHANNELS } from './db/notifications.js';
import { bots, events, webhookEndpoints } from './db/schema.js';
import { inTransaction } from './db/transaction.js';
import { emitBotEvent, emitWorkspaceEvent, readBotEvents, statusData } from './events.js';
import { newId } from './ids.js';
import { silentLogger } from './log.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api?.close();
});

async function newBot(token?: string): Promise<{ botId: string; workspaceId: string; token: string }> {
  const k = token ? { key: token } : await api.apiKey();
  const res = await api.call('POST', '/v1/bots', { token: k.key, json: { meeting_url: 'https://meet.google.com/abc-defg-hij', join_at: new Date(Date.now() + 3600_000).toISOString() } });
  expect(res.status).toBe(201);
  const [row] = await api.services.db.select({ workspaceId: bots.workspaceId }).from(bots).where(eq(bots.id, res.body.id));
  return { botId: res.body.id, workspaceId: row!.workspaceId, token: k.key };
}

const logOf = (botId: string) => api.services.db.select().from(events).where(eq(events.botId, botId)).orderBy(asc(events.seq));

const segment = (seq: number, text: string) => ({ seq, speaker: null, startMs: seq * 1000, endMs: seq * 1000 + 800, text, words: [{ text, start_ms: seq * 1000, end_ms: seq * 1000 + 800 }] });

describe('the event log of a bot', () => {
  it('gets one event per change a running bot writes, numbered 1, 2, … in write order', async () => {
    const { botId, token } = await newBot();
    const r = new BotRecords(api.services.db, botId, silentLogger);
    await r.transition('joining_call');
    await r.transition('in_waiting_room');
    await r.transition('in_call_not_recording');
    await r.syncParticipants([
      { platformId: 'self', name: 'Notula Notetaker', isSelf: true },
      { platformId: 'ada', name: 'Ada Lovelace', isSelf: false },
    ]);
    await r.recordingStarted();
    await r.transition('in_call_recording');
    await r.addSegment(segment(0, 'hello there'));
    await r.addSegment(segment(1, 'second line'));
    await r.syncParticipants([{ platformId: 'self', name: 'Notula Notetaker', isSelf: true }]);
    await r.closeParticipants();
    await r.transition('call_ended', { subCode: 'everyone_left', message: 'everyone else left the call' });
    await r.recordingFinished({ status: 'ready', storageKey: 'bots/x/recording.ogg', contentType: 'audio/ogg', durationMs: 4200, sizeBytes: 1234 });
    await r.transition('done');
    expect(await r.writes.drain(5000)).toBe(true);

    const log = await logOf(botId);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log.map((e) => (e.type === 'bot.status_change' ? `status:${(e.data as any).status.code}` : e.type))).toEqual([
      'status:scheduled',
      'status:joining_call',
      'status:in_waiting_room',
      'status:in_call_not_recording',
      'participant.join',
      'status:in_call_recording',
      'transcript.segment',
      'transcript.segment',
      'participant.leave',
      'status:call_ended',
      'recording.done',
      'status:done',
      'transcript.done',
    ]);
    const [bot] = await api.services.db.select({ eventSeq: bots.eventSeq }).from(bots).where(eq(bots.id, botId));
    expect(bot!.eventSeq).toBe(log.length);

    const byType = (t: string) => log.filter((e) => e.type === t).map((e) => e.data as any);
    expect(byType('participant.join')).toEqual([{ bot_id: botId, participant: { id: expect.stringMatching(/^par_/), name: 'Ada Lovelace', joined_at: expect.any(String), left_at: null } }]);
    expect(byType('participant.leave')[0].participant).toMatchObject({ name: 'Ada Lovelace', left_at: expect.any(String) });
    expect(byType('transcript.segment').map((d) => d.segment)).toEqual([
      { seq: 0, speaker: null, start_ms: 0, end_ms: 800, text: 'hello there', words: [{ text: 'hello there', start_ms: 0, end_ms: 800 }] },
      { seq: 1, speaker: null, start_ms: 1000, end_ms: 1800, text: 'second line', words: [{ text: 'second line', start_ms: 1000, end_ms: 1800 }] },
    ]);
    const ended = log.find((e) => e.type === 'bot.status_change' && (e.data as any).status.code === 'call_ended')!.data as any;
    expect(ended.status).toMatchObject({ sub_code: 'everyone_left', message: 'everyone else left the call', updated_at: expect.any(String) });
    expect(byType('recording.done')).toEqual([
      {
        bot_id: botId,
        recording: { status: 'ready', content_type: 'audio/ogg', duration_ms: 4200, size_bytes: 1234 },
        recording_path: `/v1/bots/${botId}/recording`,
      },
    ]);
    expect(byType('transcript.done')).toEqual([{ bot_id: botId, segment_count: 2, transcript_path: `/v1/bots/${botId}/transcript` }]);
    // The status events tell the same story as the status history the API shows.
    const shown = await api.call('GET', `/v1/bots/${botId}`, { token });
    expect(log.filter((e) => e.type === 'bot.status_change').map((e) => (e.data as any).status.code)).toEqual(shown.body.status_history.map((h: { code: string }) => h.code));
  });

  it('writes no event for a write that changes nothing: a refused transition or a retried segment', async () => {
    const { botId } = await newBot();
    const r = new BotRecords(api.services.db, botId, silentLogger);
    expect(await r.transition('in_call_recording')).toBe(false); // scheduled → in_call_recording is not allowed
    await r.transition('joining_call');
    await r.addSegment(segment(0, 'once'));
    await r.addSegment(segment(0, 'once')); // a write retried after it had committed
    await r.writes.drain(5000);
    expect((await logOf(botId)).map((e) => e.type)).toEqual(['bot.status_change', 'bot.status_change', 'transcript.segment']);
  });

  it('a transcript redone from the recording is a reset followed by its new segments', async () => {
    const { botId } = await newBot();
    const r = new BotRecords(api.services.db, botId, silentLogger);
    await r.addSegment(segment(0, 'garbled'));
    await r.replaceSegments([
      { speaker: 'Ada', startMs: 0, endMs: 500, text: 'first', words: [{ text: 'first', start_ms: 0, end_ms: 500 }] },
      { speaker: null, startMs: 600, endMs: 900, text: 'second', words: [{ text: 'second', start_ms: 600, end_ms: 900 }] },
    ]);
    await r.writes.drain(5000);
    const log = await logOf(botId);
    expect(log.slice(1).map((e) => [e.type, (e.data as any).segment?.text ?? null])).toEqual([
      ['transcript.segment', 'garbled'],
      ['transcript.reset', null],
      ['transcript.segment', 'first'],
      ['transcript.segment', 'second'],
    ]);
    expect((log[4]!.data as any).segment.seq).toBe(1);
  });

  it('an event rolls back with its transaction and leaves no hole in the numbering', async () => {
    const { botId } = await newBot();
    await expect(
      inTransaction(api.database, async (tx) => {
        await emitBotEvent(tx, botId, 'transcript.reset', { bot_id: botId, reason: 'test' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await emitBotEvent(api.services.db, botId, 'transcript.reset', { bot_id: botId, reason: 'kept' });
    expect((await logOf(botId)).map((e) => [e.seq, (e.data as any).reason ?? null])).toEqual([
      [1, null],
      [2, 'kept'],
    ]);
  });

  it('numbers commit in order: a reader tailing `seq > last` while 40 writers race never skips one', async () => {
    const { botId } = await newBot();
    const writers = Array.from({ length: 40 }, (_, i) =>
      inTransaction(api.database, async (tx) => {
        await emitBotEvent(tx, botId, 'bot.status_change', statusData(botId, { code: 'joining_call', subCode: null, message: `writer ${i}`, updatedAt: new Date() }));
        // Hold the transaction open a random while after taking the number.
        await tx.execute(sql`select pg_sleep(${Math.random() * 0.03})`);
      }),
    );
    let done = false;
    const all = Promise.all(writers).then(() => (done = true));
    const seen: number[] = [];
    let cursor = 0;
    while (!done || seen.length < 41) {
      const rows = await readBotEvents(api.services.db, botId, cursor, 1000);
      for (const row of rows) {
        seen.push(row.seq!);
        cursor = row.seq!;
      }
      if (done && rows.length === 0) break;
    }
    await all;
    expect(seen).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
  });

  it('NOTIFYs the bot id when the transaction commits, not before', async () => {
    const { botId } = await newBot();
    const heard: string[] = [];
    const off = api.notifications.on(CHANNELS.events, (p) => heard.push(p));
    try {
      await inTransaction(api.database, async (tx) => {
        await emitBotEvent(tx, botId, 'transcript.reset', { bot_id: botId, reason: 'x' });
        await new Promise((r) => setTimeout(r, 200));
        expect(heard).not.toContain(botId);
      });
      await expect.poll(() => heard.includes(botId), { timeout: 3000 }).toBe(true);
    } finally {
      off();
    }
  });
});

describe('workspace events', () => {
  it('are stored without a bot or seq, and marked for the webhook fan-out only when an endpoint wants them', async () => {
    const { workspaceId } = await newBot();
    const emit = (type: 'calendar.sync' | 'calendar.disconnected') =>
      inTransaction(api.database, (tx) => emitWorkspaceEvent(tx, workspaceId, type, type === 'calendar.sync' ? { calendar_id: 'cal_1' } : { calendar_id: 'cal_1', reason: 'grant revoked' }));
    const row = async (id: string) => (await api.services.db.select().from(events).where(eq(events.id, id)))[0]!;

    const none = await row(await emit('calendar.sync'));
    expect(none).toMatchObject({ workspaceId, botId: null, seq: null, type: 'calendar.sync', data: { calendar_id: 'cal_1' }, fanoutPending: false });

    await api.services.db.insert(webhookEndpoints).values({ id: newId('whe'), workspaceId, url: 'https://93.184.215.14/hook', eventTypes: ['calendar.disconnected'], secret: 'sealed' });
    expect((await row(await emit('calendar.sync'))).fanoutPending).toBe(false);
    expect((await row(await emit('calendar.disconnected'))).fanoutPending).toBe(true);
  });
});

describe('DELETE /v1/bots/:id/data', () => {
  it("removes the words from the bot's transcript events but keeps their order", async () => {
    const { botId, token } = await newBot();
    const r = new BotRecords(api.services.db, botId, silentLogger);
    await r.transition('joining_call');
    await r.addSegment(segment(0, 'a secret plan'));
    await r.transition('call_ended', { subCode: 'left_by_request' });
    await r.transition('done');
    await r.writes.drain(5000);
    expect((await api.call('DELETE', `/v1/bots/${botId}/data`, { token })).status).toBe(200);
    const log = await logOf(botId);
    expect(JSON.stringify(log)).not.toContain('a secret plan');
    expect(log.find((e) => e.type === 'transcript.segment')!.data).toEqual({ bot_id: botId, segment: { seq: 0 }, data_deleted: true });
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
