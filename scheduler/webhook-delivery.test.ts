/**
 * Outbound webhooks end to end over real Postgres, real pg-boss and real HTTP: events a bot
 * writes are fanned out, signed (verified by the `standardwebhooks` package at a real
 * receiver), retried with backoff through an outage (refused, then 500s) without losing or
 * re-identifying anything, given up after the window, disabled on 410, not redirected,
 * redelivered by hand under the same webhook-id, and logged per endpoint. The retry schedule
 * is compressed through the settings (no fake clocks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotRecords } from '../bot/bot-records.js';
import { createTestApi, type TestApi } from '../test/harness/api.js';
import { WebhookReceiver, type ReceivedWebhook } from '../test/harness/webhook-receiver.js';
import { silentLogger } from '../lib/log.js';
import { startWebhookDelivery, type WebhookDelivery } from './webhooks.js';

const WINDOW_MS = 6000;

let api: TestApi;
let delivery: WebhookDelivery;
beforeAll(async () => {
  api = await createTestApi({
    WEBHOOKS_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_FIRST_DELAY_MS: '100',
    WEBHOOK_RETRY_MAX_DELAY_MS: '400',
    WEBHOOK_RETRY_FOR_MS: String(WINDOW_MS),
    WEBHOOK_POLL_INTERVAL_MS: '500',
    WEBHOOK_TIMEOUT_MS: '5000', // no test here times out; a stalled event loop must not turn an answered attempt into a retry
  });
  delivery = await startWebhookDelivery({
    config: api.config,
    database: api.database,
    boss: api.boss,
    notifications: api.notifications,
    secrets: api.services.secrets,
    log: silentLogger,
    queue: api.webhookQueue,
  });
});
afterAll(async () => {
  await delivery?.stop();
  await api?.close();
});

interface Setup {
  key: string;
  receiver: WebhookReceiver;
  endpointId: string;
  secret: string;
}

async function endpointFor(eventTypes: string[] = [], path = '/hook'): Promise<Setup> {
  const k = await api.apiKey();
  const receiver = await WebhookReceiver.start('whsec_placeholder');
  const res = await api.call('POST', '/v1/webhook-endpoints', { token: k.key, json: { url: receiver.url(path), event_types: eventTypes } });
  expect(res.status).toBe(201);
  receiver.secret = res.body.secret;
  return { key: k.key, receiver, endpointId: res.body.id, secret: res.body.secret };
}

async function newBot(key: string): Promise<BotRecords & { id: string }> {
  const res = await api.call('POST', '/v1/bots', { token: key, json: { meeting_url: 'https://meet.google.com/abc-defg-hij', join_at: new Date(Date.now() + 3600_000).toISOString() } });
  expect(res.status).toBe(201);
  return Object.assign(new BotRecords(api.services.db, res.body.id, silentLogger), { id: res.body.id as string });
}

const segment = (seq: number) => ({ seq, speaker: null, startMs: seq * 1000, endMs: seq * 1000 + 900, text: `line number ${seq}`, words: [] });

const deliveries = async (s: Setup, query = '') => (await api.call('GET', `/v1/webhook-endpoints/${s.endpointId}/deliveries?limit=100${query}`, { token: s.key })).body;

/** The events the log holds for a bot, by id. */
async function eventIds(botId: string, types?: string[]): Promise<string[]> {
  const rows = await api.services.db.query.events.findMany({ where: (e, { eq }) => eq(e.botId, botId), orderBy: (e, { asc }) => asc(e.seq) });
  return rows.filter((r) => !types || types.includes(r.type)).map((r) => r.id);
}

const ok = (r: ReceivedWebhook) => r.verified && r.status >= 200 && r.status < 300;

describe('webhook delivery', () => {
  it("delivers a bot's events signed per Standard Webhooks, the event id as webhook-id, and logs each delivery", async () => {
    const s = await endpointFor();
    const bot = await newBot(s.key);
    await bot.transition('joining_call');
    await bot.syncParticipants([{ platformId: 'ada', name: 'Ada', isSelf: false }]); // live-only: not a webhook event
    await bot.addSegment(segment(0));
    await bot.transition('call_ended', { subCode: 'left_by_request' });
    await bot.recordingFinished({ status: 'ready', storageKey: 'k', contentType: 'audio/ogg', durationMs: 1000, sizeBytes: 10 });
    await bot.transition('done');
    await bot.writes.drain();

    const expected = await eventIds(bot.id, ['bot.status_change', 'transcript.segment', 'recording.done', 'transcript.done']);
    expect(expected).toHaveLength(7);
    await s.receiver.waitFor(() => s.receiver.received.length >= expected.length);
    const got = s.receiver.received;
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got.map((r) => r.id).sort()).toEqual([...expected].sort());
    for (const r of got) {
      expect(r.json.id).toBe(r.id);
      expect(Math.abs(Number(r.timestamp) - Date.now() / 1000)).toBeLessThan(30);
      expect(r.signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    }
    const types = got.sort((a, b) => a.json.seq - b.json.seq).map((r) => r.json.type);
    expect(types).toEqual(['bot.status_change', 'bot.status_change', 'transcript.segment', 'bot.status_change', 'recording.done', 'bot.status_change', 'transcript.done']);
    expect(got.find((r) => r.json.type === 'transcript.segment')!.json).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'transcript.segment',
      timestamp: expect.any(String),
      seq: 4,
      data: { bot_id: bot.id, segment: { seq: 0, speaker: null, start_ms: 0, end_ms: 900, text: 'line number 0', words: [] } },
    });

    await expect.poll(async () => (await deliveries(s)).data.every((d: any) => d.status === 'succeeded'), { timeout: 5000 }).toBe(true);
    const log = (await deliveries(s)).data;
    expect(log).toHaveLength(7);
    for (const d of log) {
      expect(d).toMatchObject({ endpoint_id: s.endpointId, status: 'succeeded', attempts: 1, last_status_code: 204, last_error: null, next_attempt_at: null, completed_at: expect.any(String) });
      expect(d.attempt_log).toEqual([{ attempt: 1, manual: false, at: expect.any(String), status_code: 204, latency_ms: expect.any(Number), error: null }]);
    }
    await s.receiver.stop();
  });

  it('sends only the event types an endpoint asked for', async () => {
    const s = await endpointFor(['transcript.done']);
    const bot = await newBot(s.key);
    await bot.addSegment(segment(0));
    await bot.transition('joining_call');
    await bot.transition('call_ended', { subCode: 'meeting_ended' });
    await bot.transition('done');
    await bot.writes.drain();
    await s.receiver.waitFor(() => s.receiver.received.length >= 1);
    await new Promise((r) => setTimeout(r, 700));
    expect(s.receiver.received.map((r) => r.json.type)).toEqual(['transcript.done']);
  });

  it('rides out a receiver that is down (refused, then 500s) and comes back: nothing lost, nothing duplicated under distinct ids', async () => {
    const s = await endpointFor(['transcript.segment']);
    await s.receiver.stop(); // connection refused
    const bot = await newBot(s.key);
    for (let i = 0; i < 15; i++) await bot.addSegment(segment(i));
    await bot.writes.drain();
    const expected = await eventIds(bot.id, ['transcript.segment']);
    expect(expected).toHaveLength(15);

    // While refused: every delivery is pending with a next retry in the future and a logged refusal.
    await expect
      .poll(async () => (await deliveries(s)).data.filter((d: any) => d.attempts >= 2).length, { timeout: 20_000 })
      .toBe(15);
    const during = (await deliveries(s)).data;
    for (const d of during) {
      expect(d.status).toBe('pending');
      expect(d.last_error).toBe('connection refused');
      expect(d.last_status_code).toBeNull();
      expect(Date.parse(d.next_attempt_at)).toBeGreaterThan(Date.parse(d.attempt_log.at(-1).at));
    }

    // Back, but failing.
    s.receiver.answer = () => ({ status: 500 });
    await s.receiver.listen();
    await s.receiver.waitFor(() => new Set(s.receiver.received.map((r) => r.id)).size === 15, 20_000);
    await new Promise((r) => setTimeout(r, 800));
    // Healthy again.
    s.receiver.answer = () => ({ status: 200 });
    await s.receiver.waitFor(() => new Set(s.receiver.received.filter(ok).map((r) => r.id)).size === 15, 30_000);

    const got = s.receiver.received;
    expect(got.every((r) => r.verified)).toBe(true);
    // Every event arrived, under its own id, and only under it.
    expect([...new Set(got.filter(ok).map((r) => r.id))].sort()).toEqual([...expected].sort());
    const idsPerEvent = new Map<string, Set<string>>();
    for (const r of got) idsPerEvent.set(r.json.id, (idsPerEvent.get(r.json.id) ?? new Set()).add(r.id));
    expect([...idsPerEvent.values()].every((ids) => ids.size === 1)).toBe(true);
    const segmentsSeen = got.filter(ok).map((r) => r.json.data.segment.seq);
    expect([...new Set(segmentsSeen)].sort((a, b) => a - b)).toEqual([...Array(15).keys()]);
    // Retries resend the same bytes.
    for (const id of expected) expect(new Set(got.filter((r) => r.id === id).map((r) => r.body)).size).toBe(1);

    await expect.poll(async () => (await deliveries(s)).data.every((d: any) => d.status === 'succeeded'), { timeout: 20_000 }).toBe(true);
    const final = (await deliveries(s)).data;
    const attempts = final.map((d: any) => d.attempts);
    console.log(`outage: ${final.length} deliveries, ${got.length} requests, attempts per delivery ${Math.min(...attempts)}–${Math.max(...attempts)}`);
    for (const d of final) {
      const codes = d.attempt_log.map((a: any) => a.status_code);
      expect(codes.at(-1)).toBe(200);
      expect(codes.slice(0, 2)).toEqual([null, null]);
      expect(codes).toContain(500);
      expect(d.attempt_log[0].error).toBe('connection refused');
      // Backoff: the waits grow (first ~100 ms, later up to 400 ms), never below half the first delay.
      const at = d.attempt_log.map((a: any) => Date.parse(a.at));
      const gaps = at.slice(1).map((t: number, i: number) => t - at[i]);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(45);
      expect(d).toMatchObject({ next_attempt_at: null, last_error: null });
    }
    await s.receiver.stop();
  }, 90_000);

  it('gives up after the retry window and says so', async () => {
    const s = await endpointFor(['transcript.segment']);
    s.receiver.answer = () => ({ status: 503 });
    const bot = await newBot(s.key);
    await bot.addSegment(segment(0));
    await bot.writes.drain();
    const started = Date.now();
    await expect.poll(async () => (await deliveries(s)).data[0]?.status, { timeout: WINDOW_MS + 8000, interval: 250 }).toBe('failed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(WINDOW_MS - 500);
    const [d] = (await deliveries(s, '&status=failed')).data;
    expect(d).toMatchObject({ status: 'failed', last_status_code: 503, last_error: 'the endpoint answered 503', next_attempt_at: null, completed_at: expect.any(String) });
    expect(d.attempts).toBeGreaterThanOrEqual(6);
    expect(d.attempt_log.every((a: any) => a.status_code === 503)).toBe(true);
    // The window opens with the delivery (not with its first attempt, which waits for a poll)
    // and it gave up only after an attempt that ended once the window was over.
    const last = d.attempt_log.at(-1);
    expect(Date.parse(last.at) + last.latency_ms - Date.parse(d.created_at)).toBeGreaterThanOrEqual(WINDOW_MS - 100);
    expect(new Set(s.receiver.received.map((r) => r.id)).size).toBe(1);
    expect((await deliveries(s, '&status=pending')).data).toEqual([]);
    await s.receiver.stop();
  }, 30_000);

  it('disables the endpoint on 410 Gone and sends it nothing more', async () => {
    const s = await endpointFor(['transcript.segment']);
    s.receiver.answer = () => ({ status: 410 });
    const bot = await newBot(s.key);
    await bot.addSegment(segment(0));
    await bot.writes.drain();
    await expect.poll(async () => (await api.call('GET', `/v1/webhook-endpoints/${s.endpointId}`, { token: s.key })).body.enabled, { timeout: 5000 }).toBe(false);
    const endpoint = (await api.call('GET', `/v1/webhook-endpoints/${s.endpointId}`, { token: s.key })).body;
    expect(endpoint).toMatchObject({ enabled: false, disabled_reason: 'the receiver answered 410 Gone', disabled_at: expect.any(String) });
    const [d] = (await deliveries(s)).data;
    expect(d).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410, last_error: 'the endpoint answered 410 Gone; it has been disabled', next_attempt_at: null });

    s.receiver.answer = () => ({ status: 204 });
    await bot.addSegment(segment(1));
    await bot.writes.drain();
    await new Promise((r) => setTimeout(r, 1500));
    expect(s.receiver.received).toHaveLength(1);
    expect((await deliveries(s)).data).toHaveLength(1);
    // Redelivery needs the endpoint enabled again.
    const refused = await api.call('POST', `/v1/webhook-endpoints/${s.endpointId}/deliveries/${d.id}/redeliver`, { token: s.key });
    expect(refused.status).toBe(409);
    await s.receiver.stop();
  });

  it('does not follow redirects: a 302 is a failed attempt and the target hears nothing', async () => {
    const s = await endpointFor(['transcript.segment']);
    const target = await WebhookReceiver.start(s.secret);
    s.receiver.answer = () => ({ status: 302, location: target.url('/elsewhere') });
    const bot = await newBot(s.key);
    await bot.addSegment(segment(0));
    await bot.writes.drain();
    await expect.poll(async () => (await deliveries(s)).data[0]?.attempts, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    expect(target.received).toEqual([]);
    const [d] = (await deliveries(s)).data;
    expect(d.status).toBe('pending');
    expect(d.attempt_log.map((a: any) => a.status_code).slice(0, 3)).toEqual([302, 302, 302]);
    expect(d.last_error).toBe('the endpoint answered 302');
    // Deleting the endpoint ends its retries.
    expect((await api.call('DELETE', `/v1/webhook-endpoints/${s.endpointId}`, { token: s.key })).status).toBe(204);
    const count = s.receiver.received.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(s.receiver.received.length).toBeLessThanOrEqual(count + 1); // at most the attempt already in flight
    await target.stop();
    await s.receiver.stop();
  });

  it('redelivers by hand under the same webhook-id, freshly signed, and logs it as manual', async () => {
    const s = await endpointFor(['transcript.segment']);
    const bot = await newBot(s.key);
    await bot.addSegment(segment(0));
    await bot.writes.drain();
    await s.receiver.waitFor(() => s.receiver.received.length === 1);
    await expect.poll(async () => (await deliveries(s)).data[0]?.status, { timeout: 5000 }).toBe('succeeded');
    const [d] = (await deliveries(s)).data;

    const res = await api.call('POST', `/v1/webhook-endpoints/${s.endpointId}/deliveries/${d.id}/redeliver`, { token: s.key });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: d.id, status: 'pending', completed_at: null });
    await s.receiver.waitFor(() => s.receiver.received.length === 2, 5000);
    const [first, again] = s.receiver.received;
    expect(again!.verified).toBe(true);
    expect(again!.id).toBe(first!.id);
    expect(again!.body).toBe(first!.body);
    await expect.poll(async () => (await deliveries(s)).data[0]?.status, { timeout: 5000 }).toBe('succeeded');
    const after = (await deliveries(s)).data[0];
    expect(after.attempts).toBe(2);
    expect(after.attempt_log.map((a: any) => a.manual)).toEqual([false, true]);

    const missing = await api.call('POST', `/v1/webhook-endpoints/${s.endpointId}/deliveries/whd_00000000000000000000000000/redeliver`, { token: s.key });
    expect(missing.status).toBe(404);
    await s.receiver.stop();
  });

  it('after a rotation with overlap, each attempt carries both signatures, so old and new secrets verify', async () => {
    const s = await endpointFor(['transcript.segment']);
    const rotated = await api.call('POST', `/v1/webhook-endpoints/${s.endpointId}/rotate-secret`, { token: s.key, json: { previous_secret_valid_for_s: 600 } });
    const fresh = await WebhookReceiver.start(rotated.body.secret);
    const bot = await newBot(s.key);
    await bot.addSegment(segment(0));
    await bot.writes.drain();
    await s.receiver.waitFor(() => s.receiver.received.length === 1);
    const [r] = s.receiver.received;
    expect(r!.verified).toBe(true); // verified with the old secret
    expect(r!.signature.split(' ')).toHaveLength(2);
    const { Webhook } = await import('standardwebhooks');
    expect(new Webhook(rotated.body.secret).verify(r!.body, { 'webhook-id': r!.id, 'webhook-timestamp': r!.timestamp, 'webhook-signature': r!.signature })).toMatchObject({ type: 'transcript.segment' });
    await fresh.stop();
    await s.receiver.stop();
  });

  it('a workspace event (calendar.sync) is delivered like the others', async () => {
    const s = await endpointFor(['calendar.sync']);
    const [ws] = await api.services.db.query.webhookEndpoints.findMany({ where: (e, { eq }) => eq(e.id, s.endpointId) });
    const { emitWorkspaceEvent } = await import('../lib/events.js');
    const id = await emitWorkspaceEvent(api.services.db, ws!.workspaceId, 'calendar.sync', { calendar_id: 'cal_1', added: 2 });
    await s.receiver.waitFor(() => s.receiver.received.length === 1);
    expect(s.receiver.received[0]).toMatchObject({ id, verified: true, json: { id, type: 'calendar.sync', seq: null, data: { calendar_id: 'cal_1', added: 2 } } });
    await s.receiver.stop();
  });
});
