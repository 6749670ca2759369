/**
 * GET /v1/search over real Postgres full-text search: ranked transcript and document hits
 * with highlighted, HTML-escaped snippets and a link to the second in the recording; only the
 * caller's workspace; web-search syntax; any query string answered without a 500; pages.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bots, transcriptSegments } from '../../lib/db/schema.js';
import { makeDocx } from '../../test/fixtures/documents.js';
import { CAMPAIGN_PLANNING, INCIDENT_REVIEW, PRODUCT_SYNC, timedLines } from '../../test/fixtures/meetings.js';
import { createTestApi, type TestApi } from '../../test/harness/api.js';
import { finishedMeeting } from '../../test/harness/meetings.js';

let api: TestApi;
let owner: { access: string };
let stranger: { access: string };
let sync: string;
let incident: string;
let theirs: string;

beforeAll(async () => {
  api = await createTestApi({ RATE_LIMIT_API_PER_MINUTE: '100000' });
  owner = await api.signUp();
  stranger = await api.signUp();
  sync = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
  incident = await finishedMeeting(api, owner.access, INCIDENT_REVIEW);
  // Another tenant talks about the same things.
  theirs = await finishedMeeting(api, stranger.access, PRODUCT_SYNC);
  await api.services.db.insert(transcriptSegments).values({ botId: incident, seq: 100, speaker: 'Mallory', startMs: 125_400, endMs: 127_000, text: 'The certificate <img src=x onerror=alert(1)> & "budget" line.', words: [] });
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(makeDocx(['Zebra crossing policy', 'Every crossing gets a zebra marking.']))]), 'policy.docx');
  const up = await api.call('POST', `/v1/bots/${sync}/documents`, { token: owner.access, body: form });
  expect(up.status, up.text).toBe(201);
});
afterAll(async () => {
  await api?.close();
});

const search = (query: string, token = owner.access) => api.call('GET', `/v1/search?${query}`, { token });

describe('GET /v1/search', () => {
  it('finds transcript lines with a snippet and the second in the recording they start at', async () => {
    const res = await search('q=legal');
    expect(res.status, res.text).toBe(200);
    const lines = timedLines(PRODUCT_SYNC);
    const legal = lines.filter((l) => /legal/i.test(l.text));
    expect(res.body.hits).toHaveLength(legal.length);
    for (const hit of res.body.hits) {
      expect(hit.type).toBe('transcript');
      expect(hit.bot_id).toBe(sync);
      const line = lines[hit.transcript.seq]!;
      expect(line.text).toMatch(/legal/i);
      expect(hit.transcript).toEqual({
        seq: hit.transcript.seq,
        speaker: line.speaker,
        start_ms: line.startMs,
        t_s: Math.floor(line.startMs / 1000),
        recording_url: `${api.config.PUBLIC_URL}/v1/bots/${sync}/recording#t=${Math.floor(line.startMs / 1000)}`,
      });
      expect(hit.snippet).toContain('<mark>legal</mark>');
      expect(hit.document).toBeNull();
      expect(hit.meeting_at).toBe('2026-03-04T09:30:00.000Z');
    }
    const ranks = res.body.hits.map((h: { rank: number }) => h.rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(res.body.next_cursor).toBeNull();
  });

  it('ranks the closer match first and stems words (renewal ~ renew)', async () => {
    const res = await search('q=certificate%20renewal');
    expect(res.status).toBe(200);
    expect(res.body.hits[0].snippet).toContain('<mark>certificate</mark> <mark>renewal</mark>');
    const stemmed = await search('q=renew');
    expect(stemmed.body.hits.some((h: { snippet: string }) => h.snippet.includes('<mark>renewal</mark>'))).toBe(true);
  });

  it('never returns another workspace’s meetings', async () => {
    const mine = await search('q=onboarding&limit=50');
    const theirsRes = await search('q=onboarding&limit=50', stranger.access);
    expect(mine.body.hits.length).toBeGreaterThan(0);
    expect(new Set(mine.body.hits.map((h: { bot_id: string }) => h.bot_id))).toEqual(new Set([sync]));
    expect(new Set(theirsRes.body.hits.map((h: { bot_id: string }) => h.bot_id))).toEqual(new Set([theirs]));
    // Naming the other tenant's bot finds nothing rather than leaking it.
    expect((await search(`q=onboarding&bot_id=${theirs}`)).body.hits).toEqual([]);
  });

  it('escapes HTML in snippets, marking only the matched words', async () => {
    const res = await search('q=budget%20certificate');
    const hit = res.body.hits.find((h: { transcript: { speaker: string } | null }) => h.transcript?.speaker === 'Mallory');
    expect(hit.snippet).toContain('&amp;');
    expect(hit.snippet).toContain('&quot;<mark>budget</mark>&quot;');
    expect(hit.snippet.replace(/<\/?mark>/g, '')).not.toMatch(/[<>]/);
    expect(hit.transcript.recording_url).toMatch(/#t=125$/);
  });

  it('finds attached documents, typed, with a link to the document', async () => {
    const res = await search('q=zebra');
    expect(res.body.hits).toHaveLength(1);
    expect(res.body.hits[0]).toMatchObject({
      type: 'document',
      bot_id: sync,
      transcript: null,
      document: { filename: 'policy.docx', page: null, passage: 0 },
    });
    expect(res.body.hits[0].document.url).toMatch(new RegExp(`/v1/bots/${sync}/documents/doc_`));
    expect(res.body.hits[0].snippet).toContain('<mark>Zebra</mark>');
    expect((await search('q=zebra&type=transcript')).body.hits).toEqual([]);
    expect((await search('q=legal&type=document')).body.hits).toEqual([]);
  });

  it('understands web-search syntax: phrases, OR, exclusion', async () => {
    const phrase = await search(`q=${encodeURIComponent('"release announcement"')}`);
    expect(phrase.body.hits.map((h: { transcript: { speaker: string } }) => h.transcript.speaker)).toEqual(['Marcus Lee']);
    const or = await search(`q=${encodeURIComponent('zebra or pager')}&limit=50`);
    expect(new Set(or.body.hits.map((h: { type: string }) => h.type))).toEqual(new Set(['document', 'transcript']));
    const without = await search(`q=${encodeURIComponent('pager -rotation')}`);
    for (const h of without.body.hits) expect(h.snippet.toLowerCase()).not.toContain('rotation');
  });

  it('answers odd queries with 200 (maybe no hits), never a 500', async () => {
    for (const q of ['&|!:*()', '"unterminated', 'a & b', '!!!', 'the', "o'reilly", '\\', '-', 'or', '<>', '日本語', "'; drop table bots; --", 'x'.repeat(256)]) {
      const res = await search(`q=${encodeURIComponent(q)}`);
      expect(res.status, `${q}: ${res.text}`).toBe(200);
      expect(Array.isArray(res.body.hits)).toBe(true);
    }
  });

  it.each(['', 'q=', `q=${'x'.repeat(257)}`, 'q=a&limit=0', 'q=a&limit=51', 'q=a&limit=x', 'q=a&type=audio', 'q=a&cursor=bm90LWEtY3Vyc29y', 'q=a&cursor=%%%'])(
    'refuses ?%s with 400',
    async (query) => {
      const res = await search(query);
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    },
  );

  it('pages through every hit with the cursor, each once', async () => {
    const all = (await search('q=the%20OR%20we%20OR%20page%20OR%20pager%20OR%20legal&limit=50')).body.hits;
    expect(all.length).toBeGreaterThan(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res = await search(`q=the%20OR%20we%20OR%20page%20OR%20pager%20OR%20legal&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.hits.map((h: { bot_id: string; type: string; transcript: { seq: number } | null; document: { passage: number } | null }) => `${h.bot_id}:${h.type}:${h.transcript?.seq ?? h.document?.passage}`));
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(all.map((h: { bot_id: string; type: string; transcript: { seq: number } | null; document: { passage: number } | null }) => `${h.bot_id}:${h.type}:${h.transcript?.seq ?? h.document?.passage}`));
  });

  it('leaves out meetings whose data was deleted', async () => {
    const gone = await finishedMeeting(api, owner.access, CAMPAIGN_PLANNING);
    expect((await search('q=agency')).body.hits.length).toBeGreaterThan(0);
    await api.services.db.update(bots).set({ dataDeletedAt: new Date() }).where(eq(bots.id, gone));
    expect((await search('q=agency')).body.hits).toEqual([]);
  });
});
