/**
 * The post-meeting pipeline over a real database and pg-boss: the job is sent in the same
 * transaction that moves the bot to `done` (and not when the move does not apply, and not
 * when that transaction rolls back), the worker computes analytics and the summary, retries
 * are idempotent, an edit made during a regeneration wins, and deleted data is left alone.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotRecords } from '../../bot/bot-records.js';
import { loadConfig } from '../../lib/config.js';
import { bots, botParticipants, meetingAnalytics, meetingSummaries, recordings, transcriptSegments } from '../../lib/db/schema.js';
import type { SqlExecutor } from '../../lib/db/transaction.js';
import { newId } from '../../lib/ids.js';
import { silentLogger } from '../../lib/log.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../../test/fakes/openai-chat.js';
import { PRODUCT_SYNC, timedLines } from '../../test/fixtures/meetings.js';
import { createTestApi, type TestApi } from '../../test/harness/api.js';
import { QUEUES } from '../queues.js';
import { runPostMeeting, startPostMeetingWorker, type PostMeetingDeps } from './post-meeting-job.js';

let api: TestApi;
let user: { access: string; workspaceId: string };
let fake: FakeOpenAiChat;

beforeAll(async () => {
  api = await createTestApi();
  user = await api.signUp();
  fake = await startFakeOpenAiChat({ apiKey: 'sk-job' });
});
afterAll(async () => {
  await fake?.close();
  await api?.close();
});

const deps = (env: Record<string, string> = {}): PostMeetingDeps => ({
  db: api.services.db,
  config: loadConfig({ NODE_ENV: 'test', OPENAI_BASE_URL: fake.baseURL, ...env }),
  secrets: api.services.secrets,
  log: silentLogger,
});

/** A bot that has left its call (call_ended) with the product-sync transcript stored. */
async function endedBot(): Promise<string> {
  const res = await api.call('POST', '/v1/bots', { token: user.access, json: { meeting_url: 'https://meet.google.com/abc-defg-hij' } });
  const id = res.body.id as string;
  const db = api.services.db;
  await db.update(bots).set({ status: 'call_ended', recordingStartedAt: new Date(PRODUCT_SYNC.meetingDate) }).where(eq(bots.id, id));
  const lines = timedLines(PRODUCT_SYNC);
  await db.insert(transcriptSegments).values(lines.map((l, seq) => ({ botId: id, seq, speaker: l.speaker, startMs: l.startMs, endMs: l.endMs, text: l.text, words: [] })));
  await db.insert(botParticipants).values(PRODUCT_SYNC.participants.map((name) => ({ id: newId('par'), botId: id, platformId: name, name, joinedAt: new Date() })));
  await db.insert(recordings).values({ botId: id, status: 'ready', startedAt: new Date(), durationMs: lines.at(-1)!.endMs + 5000 });
  return id;
}

const jobsFor = async (botId: string) =>
  (await api.database.pool.query('select data, state, singleton_key from pgboss.job where name = $1 and singleton_key = $2', [QUEUES.postMeeting.name, botId])).rows;

const recordsFor = (botId: string, onDone = (sql: SqlExecutor) => api.services.postMeeting.enqueue(sql, botId, 'done').then(() => undefined)) =>
  new BotRecords(api.services.db, botId, silentLogger, { onDone });

describe('sending the job with the move to done', () => {
  it('commits the status and the job together, once', async () => {
    const id = await endedBot();
    expect(await recordsFor(id).transition('done')).toBe(true);
    const [bot] = await api.services.db.select().from(bots).where(eq(bots.id, id));
    expect(bot!.status).toBe('done');
    expect(await jobsFor(id)).toEqual([{ data: { botId: id, reason: 'done' }, state: 'created', singleton_key: id }]);
    // A second move to done does not apply, so no second job.
    expect(await recordsFor(id).transition('done')).toBe(false);
    expect(await jobsFor(id)).toHaveLength(1);
  });

  it('rolls the status back when sending the job fails, and the retried write does both', async () => {
    const id = await endedBot();
    let calls = 0;
    const records = recordsFor(id, async (sql) => {
      calls++;
      if (calls === 1) throw new Error('queue unreachable');
      await api.services.postMeeting.enqueue(sql, id, 'done');
    });
    expect(await records.transition('done')).toBe(true);
    expect(calls).toBe(2);
    const events = await api.database.pool.query("select code from bot_status_events where bot_id = $1 and code = 'done'", [id]);
    expect(events.rowCount).toBe(1);
    expect(await jobsFor(id)).toHaveLength(1);
  });

  it('sends nothing for other transitions', async () => {
    const id = await endedBot();
    await api.services.db.update(bots).set({ status: 'in_call_recording' }).where(eq(bots.id, id));
    expect(await recordsFor(id).transition('call_ended', { subCode: 'meeting_ended' })).toBe(true);
    expect(await jobsFor(id)).toHaveLength(0);
  });
});

describe('the post-meeting worker', () => {
  it('picks the job up and stores analytics and an offline summary', async () => {
    const id = await endedBot();
    const stop = await startPostMeetingWorker(api.boss, deps());
    try {
      await recordsFor(id).transition('done');
      const deadline = Date.now() + 20_000;
      let summary: typeof meetingSummaries.$inferSelect | undefined;
      while (Date.now() < deadline) {
        [summary] = await api.services.db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, id));
        if (summary?.status === 'ready') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(summary).toMatchObject({ status: 'ready', generator: 'offline', version: 1, fallbackReason: 'no OpenAI API key is configured' });
      const content = summary!.content as { action_items: { owner: string | null }[]; decisions: string[] };
      expect(content.action_items.map((a) => a.owner)).toEqual(expect.arrayContaining(['Marcus Lee', 'Tom Becker', 'Elena Rossi']));
      expect(content.decisions.length).toBeGreaterThanOrEqual(2);
      const [a] = await api.services.db.select().from(meetingAnalytics).where(eq(meetingAnalytics.botId, id));
      const analytics = a!.analytics as { speakers: { name: string }[]; duration_ms: number };
      expect(analytics.speakers.map((s) => s.name).sort()).toEqual([...PRODUCT_SYNC.participants].sort());
      expect(analytics.duration_ms).toBe(timedLines(PRODUCT_SYNC).at(-1)!.endMs + 5000);
      const deadline2 = Date.now() + 10_000;
      while (Date.now() < deadline2 && (await jobsFor(id))[0]?.state !== 'completed') await new Promise((r) => setTimeout(r, 200));
      expect((await jobsFor(id))[0]?.state).toBe('completed');
    } finally {
      await stop();
    }
  });

  it('is idempotent: a retried done job keeps the summary it wrote', async () => {
    const id = await endedBot();
    expect(await runPostMeeting(deps(), { botId: id, reason: 'done' })).toMatchObject({ summary: 'written', generator: 'offline' });
    const [first] = await api.services.db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, id));
    expect(await runPostMeeting(deps(), { botId: id, reason: 'done' })).toMatchObject({ summary: 'kept' });
    const [second] = await api.services.db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, id));
    expect(second).toEqual(first);
    expect(await api.services.db.select().from(meetingAnalytics).where(eq(meetingAnalytics.botId, id))).toHaveLength(1);
  });

  it('regenerates with OpenAI when a key is set, storing the structured reply', async () => {
    const id = await endedBot();
    await runPostMeeting(deps(), { botId: id, reason: 'done' });
    fake.requests.length = 0;
    fake.reply(null);
    expect(await runPostMeeting(deps({ OPENAI_API_KEY: 'sk-job' }), { botId: id, reason: 'regenerate' })).toMatchObject({ summary: 'written', generator: 'openai' });
    const [s] = await api.services.db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, id));
    expect(s).toMatchObject({ status: 'ready', generator: 'openai', model: 'gpt-4o-mini', version: 2, fallbackReason: null });
    expect((s!.content as { summary: string }).summary).toContain('- Priya Shah said: Morning everyone.');
    expect(fake.requests[0]!.user).toContain('Tom Becker: Action item for me: update the roadmap slide');
  });

  it('keeps an edit made while a regeneration was running', async () => {
    const id = await endedBot();
    await runPostMeeting(deps(), { botId: id, reason: 'done' });
    const edited = { summary: '- edited by hand', decisions: [], action_items: [] };
    fake.reply(async (req) => {
      // The user saves an edit while the model is still writing.
      await api.services.db
        .update(meetingSummaries)
        .set({ content: edited, status: 'ready', version: 7, editedByType: 'user', editedById: 'usr_x', editedAt: new Date() })
        .where(eq(meetingSummaries.botId, id));
      return { content: JSON.stringify({ summary_bullets: ['from the model'], decisions: [], action_items: [] }) };
    });
    expect(await runPostMeeting(deps({ OPENAI_API_KEY: 'sk-job' }), { botId: id, reason: 'regenerate' })).toMatchObject({ summary: 'superseded by an edit' });
    const [s] = await api.services.db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, id));
    expect(s).toMatchObject({ content: edited, version: 7, editedById: 'usr_x' });
    fake.reply(null);
  });

  it('leaves a bot whose data was deleted alone', async () => {
    const id = await endedBot();
    await api.services.db.update(bots).set({ dataDeletedAt: new Date() }).where(eq(bots.id, id));
    expect(await runPostMeeting(deps(), { botId: id, reason: 'done' })).toEqual({ skipped: 'data deleted' });
    expect(await api.services.db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, id))).toEqual([]);
    expect(await runPostMeeting(deps(), { botId: 'bot_missing', reason: 'done' })).toEqual({ skipped: 'bot not found' });
  });
});
