/**
 * GET /v1/bots/:id/live over a real server and a real `ws` client: order and seq, replay then
 * live tail, since-resume across disconnects without gaps or repeats, authentication (header
 * and subprotocol), workspace scoping, the end of a bot, a slow consumer whose server-side
 * buffer stays bounded, and the keepalive.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotRecords } from '../../bot/bot-records.js';
import { emitBotEvents, type BotEventInput } from '../../lib/events.js';
import { silentLogger } from '../../lib/log.js';
import { createTestApi, type TestApi } from '../../test/harness/api.js';
import { LiveClient } from '../../test/harness/live-client.js';
import { LIVE_SUBPROTOCOL } from '../app.js';

const MAX_BUFFERED = 64 * 1024;
const PING_MS = 4000;

let api: TestApi;
let base: string;
beforeAll(async () => {
  api = await createTestApi({}, { live: { maxBufferedBytes: MAX_BUFFERED, pingIntervalMs: PING_MS, pollIntervalMs: 500, finishWaitMs: 60_000 } });
  base = await api.listen();
});
afterAll(async () => {
  await api?.close();
});

async function newBot(key?: string) {
  const k = key ? { key } : await api.apiKey();
  const res = await api.call('POST', '/v1/bots', { token: k.key, json: { meeting_url: 'https://meet.google.com/abc-defg-hij', join_at: new Date(Date.now() + 3600_000).toISOString() } });
  expect(res.status).toBe(201);
  const records = new BotRecords(api.services.db, res.body.id, silentLogger);
  return { id: res.body.id as string, key: k.key, records };
}

const segment = (seq: number, text = `line ${seq}`) => ({ seq, speaker: null, startMs: seq * 1000, endMs: seq * 1000 + 500, text, words: [] });

const contiguous = (seqs: number[], from = 1) => seqs.every((s, i) => s === from + i);

describe('GET /v1/bots/:id/live', () => {
  it('replays what happened, then streams new events live, in order with their seq, and closes when the bot is done', async () => {
    const bot = await newBot();
    await bot.records.transition('joining_call');
    await bot.records.transition('in_call_not_recording');
    await bot.records.writes.drain();

    const client = await LiveClient.connect(base, bot.id, { token: bot.key });
    await client.waitFor((e) => e.length >= 3);
    expect(client.events.map((e) => [e.seq, e.type, e.data.status?.code])).toEqual([
      [1, 'bot.status_change', 'scheduled'],
      [2, 'bot.status_change', 'joining_call'],
      [3, 'bot.status_change', 'in_call_not_recording'],
    ]);

    await bot.records.syncParticipants([{ platformId: 'ada', name: 'Ada Lovelace', isSelf: false }]);
    await bot.records.transition('in_call_recording');
    const sent = Date.now();
    await bot.records.addSegment(segment(0, 'hello everyone'));
    await client.waitFor((e) => e.some((x) => x.type === 'transcript.segment'));
    const seg = client.events.find((x) => x.type === 'transcript.segment')!;
    expect(seg.receivedAt - sent).toBeLessThan(1000);
    expect(seg).toMatchObject({ id: expect.stringMatching(/^evt_/), seq: 6, timestamp: expect.any(String), data: { bot_id: bot.id, segment: { seq: 0, text: 'hello everyone' } } });

    await bot.records.addSegment(segment(1));
    await bot.records.closeParticipants();
    await bot.records.transition('call_ended', { subCode: 'everyone_left' });
    await bot.records.transition('done');
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1000, reason: 'bot finished' });
    expect(contiguous(client.events.map((e) => e.seq))).toBe(true);
    expect(client.events.map((e) => e.type)).toEqual([
      'bot.status_change',
      'bot.status_change',
      'bot.status_change',
      'participant.join',
      'bot.status_change',
      'transcript.segment',
      'transcript.segment',
      'participant.leave',
      'bot.status_change',
      'bot.status_change',
      'transcript.done',
    ]);
    expect(api.live.stats().filter((s) => s.botId === bot.id)).toEqual([]);
  });

  it('a finished bot streams its whole log and closes at once; ?since skips what was seen', async () => {
    const bot = await newBot();
    await bot.records.transition('joining_call');
    await bot.records.transition('call_ended', { subCode: 'meeting_ended' });
    await bot.records.transition('done');
    await bot.records.writes.drain();
    const all = await LiveClient.connect(base, bot.id, { token: bot.key });
    expect(await all.closed).toEqual({ code: 1000, reason: 'bot finished' });
    expect(all.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const rest = await LiveClient.connect(base, bot.id, { token: bot.key, since: 3 });
    await rest.closed;
    expect(rest.events.map((e) => e.seq)).toEqual([4, 5]);
    expect(rest.events.map((e) => e.id)).toEqual(all.events.slice(3).map((e) => e.id));
  });

  it('resumes with ?since after disconnects while events keep coming: no gaps, no repeats', async () => {
    const bot = await newBot();
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 150; i++) {
        await bot.records.addSegment(segment(i));
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await bot.records.writes.drain();
      writing = false;
    })();

    const received: number[] = [];
    let since = 0;
    for (let round = 0; round < 6 && (writing || round === 0); round++) {
      const client = await LiveClient.connect(base, bot.id, { token: bot.key, since });
      await client.waitFor((e) => e.length >= 5 || !writing, 10_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 40));
      client.ws.terminate(); // an abrupt drop, not a clean close
      await client.closed;
      received.push(...client.events.map((e) => e.seq));
      since = client.lastSeq || since;
    }
    await writer;
    const last = await LiveClient.connect(base, bot.id, { token: bot.key, since });
    await last.waitFor(() => (last.lastSeq || since) >= 151, 10_000);
    received.push(...last.events.map((e) => e.seq));
    await last.close();

    expect(received).toEqual(Array.from({ length: 151 }, (_, i) => i + 1));
  });

  describe('authentication and scope', () => {
    it.each([
      ['no credentials', 401, {}],
      ['an unknown API key', 401, { token: 'ntl_not-a-key' }],
      ['a malformed access token', 401, { token: 'eyJ.broken.token' }],
      ['an unknown key offered as a subprotocol', 401, { protocols: [LIVE_SUBPROTOCOL, 'bearer.ntl_nope'] }],
    ])('refuses %s with %i', async (_why, status, opts) => {
      const bot = await newBot();
      expect(await LiveClient.refusal(base, bot.id, opts)).toBe(status);
    });

    it('refuses a revoked API key', async () => {
      const k = await api.apiKey();
      const bot = await newBot(k.key);
      const id = (await api.call('GET', '/v1/api-keys', { token: k.access })).body.data[0].id;
      expect((await api.call('DELETE', `/v1/api-keys/${id}`, { token: k.access })).status).toBe(204);
      expect(await LiveClient.refusal(base, bot.id, { token: k.key })).toBe(401);
    });

    it('accepts a user access token in the Authorization header', async () => {
      const k = await api.apiKey();
      const bot = await newBot(k.key);
      const client = await LiveClient.connect(base, bot.id, { token: k.access });
      await client.waitFor((e) => e.length === 1);
      await client.close();
    });

    it('accepts the token as a subprotocol (browsers) and answers with notula.live.v1, never echoing the token', async () => {
      const k = await api.apiKey();
      const bot = await newBot(k.key);
      for (const token of [k.key, k.access]) {
        const client = await LiveClient.connect(base, bot.id, { protocols: [LIVE_SUBPROTOCOL, `bearer.${token}`] });
        expect(client.ws.protocol).toBe(LIVE_SUBPROTOCOL);
        await client.waitFor((e) => e.length === 1);
        await client.close();
      }
      // Without our subprotocol the server picks none, and a client that asked for some must fail.
      await expect(LiveClient.connect(base, bot.id, { protocols: [`bearer.${k.key}`] })).rejects.toThrow(/subprotocol/);
    });

    it("another workspace's bot and a missing bot are both 404", async () => {
      const theirs = await newBot();
      const mine = await api.apiKey();
      expect(await LiveClient.refusal(base, theirs.id, { token: mine.key })).toBe(404);
      expect(await LiveClient.refusal(base, 'bot_00000000000000000000000000', { token: mine.key })).toBe(404);
      expect(await LiveClient.refusal(base, theirs.id, { token: theirs.key })).toBe(101);
    });

    it.each(['-1', 'abc', '1.5', '99999999999'])('a bad ?since=%s is a 400', async (since) => {
      const bot = await newBot();
      const status = await LiveClient.refusal(base, bot.id, { token: bot.key, since });
      expect(status).toBe(400);
    });

    it('a plain GET is a 426 upgrade_required in the error envelope', async () => {
      const bot = await newBot();
      const res = await api.call('GET', `/v1/bots/${bot.id}/live`, { token: bot.key });
      expect(res.status).toBe(426);
      expect(res.body.error).toMatchObject({ code: 'upgrade_required', request_id: expect.any(String) });
    });
  });

  it('a bot that ended fatal while its recording is finalized closes only after recording.done', async () => {
    const bot = await newBot();
    await bot.records.transition('joining_call');
    await bot.records.transition('in_call_not_recording');
    await bot.records.recordingStarted();
    await bot.records.transition('in_call_recording');
    const client = await LiveClient.connect(base, bot.id, { token: bot.key });
    await bot.records.transition('fatal', { subCode: 'capture_failed', message: 'ffmpeg died' });
    await client.waitFor((e) => e.some((x) => x.data.status?.code === 'fatal'));
    const early = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('open'), 1200))]);
    expect(early).toBe('open');
    await bot.records.recordingFinished({ status: 'ready', storageKey: 'k', contentType: 'audio/ogg', durationMs: 1, sizeBytes: 1 });
    expect(await client.closed).toEqual({ code: 1000, reason: 'bot finished' });
    expect(client.events.at(-1)!.type).toBe('recording.done');
  });

  it('a slow consumer: the server stops at the buffer limit, holds no more than that, and the client still gets everything', async () => {
    const bot = await newBot();
    const client = await LiveClient.connect(base, bot.id, { token: bot.key });
    await client.waitFor((e) => e.length === 1);
    client.ws.pause(); // stop reading: the kernel buffers fill, then the server's
    const text = 'x'.repeat(8000);
    const total = 3000;
    for (let start = 0; start < total; start += 500) {
      const batch: BotEventInput[] = Array.from({ length: 500 }, (_, i) => ({
        type: 'transcript.segment',
        data: { bot_id: bot.id, segment: { seq: start + i, speaker: null, start_ms: 0, end_ms: 1, text, words: [] } },
      }));
      await emitBotEvents(api.services.db, bot.id, batch);
    }
    const stats = () => api.live.stats().find((s) => s.botId === bot.id)!;
    // The stream stalls well before the end of the log: the client is not reading.
    await expect.poll(() => stats().pauses, { timeout: 5000 }).toBeGreaterThan(0);
    const stalled = stats().cursor;
    await new Promise((r) => setTimeout(r, 500));
    const s = stats();
    console.log(`slow consumer: ${s.sent} of ${total + 1} events (${((s.sent * 8200) / 1e6).toFixed(1)} MB) pushed before stopping; peak buffered ${s.peakBufferedBytes} B (limit ${MAX_BUFFERED}); ${s.pauses} pause checks`);
    expect(s.cursor).toBe(stalled);
    expect(s.cursor).toBeLessThan(total + 1);
    expect(s.bufferedAmount).toBeLessThanOrEqual(MAX_BUFFERED + 9000);
    expect(s.peakBufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED + 9000);

    client.ws.resume();
    await client.waitFor((e) => e.length === total + 1, 20_000);
    expect(contiguous(client.events.map((e) => e.seq))).toBe(true);
    expect(stats().peakBufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED + 9000);
    await client.close();
  }, 40_000);

  it('closes a client that stops answering pings', async () => {
    const bot = await newBot();
    const ws = new WebSocket(LiveClient.url(base, bot.id), { headers: { authorization: `Bearer ${bot.key}` }, autoPong: false });
    const pings: number[] = [];
    ws.on('ping', () => pings.push(Date.now()));
    const opened = Date.now();
    await new Promise((r) => ws.once('open', r));
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    expect(code).toBe(1006); // terminated, no close frame
    expect(pings.length).toBeGreaterThanOrEqual(1);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(2 * PING_MS - 200);
    expect(Date.now() - opened).toBeLessThan(3 * PING_MS + 1000);
  }, 20_000);

  it('keeps a client that answers pings', async () => {
    const bot = await newBot();
    const client = await LiveClient.connect(base, bot.id, { token: bot.key });
    const early = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('open'), 2 * PING_MS + 1000))]);
    expect(early).toBe('open');
    await client.close();
  }, 20_000);

  it('closes a socket that sends a large frame (clients have nothing to send) with 1009', async () => {
    const bot = await newBot();
    const client = await LiveClient.connect(base, bot.id, { token: bot.key });
    client.ws.send('x'.repeat(10_000));
    expect((await client.closed).code).toBe(1009);
  });

  it('shutdown closes every stream with 1001, and refuses new ones', async () => {
    const bot = await newBot();
    const client = await LiveClient.connect(base, bot.id, { token: bot.key });
    await client.waitFor((e) => e.length === 1);
    await api.live.closeAll();
    expect(await client.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    const late = await LiveClient.connect(base, bot.id, { token: bot.key });
    expect(await late.closed).toEqual({ code: 1001, reason: 'server shutting down' });
  });
});
