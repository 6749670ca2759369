/**
 * Notes (encrypted at rest, CRUD, markdown export) and documents (multipart upload of real
 * PDF/DOCX/TXT files, type from the bytes, size limits, malformed files as 4xx, text as summary
 * context) over a real database and store; other tenants get 404s; deleting a meeting's data
 * takes them too.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { meetingDocumentChunks, meetingNotes, transcriptSegments } from '../../lib/db/schema.js';
import { silentLogger } from '../../lib/log.js';
import { runPostMeeting } from '../../scheduler/post-meeting/post-meeting-job.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../../test/fakes/openai-chat.js';
import { makeDocx, makePdf } from '../../test/fixtures/documents.js';
import { PRODUCT_SYNC } from '../../test/fixtures/meetings.js';
import { createTestApi, type CallResult, type TestApi } from '../../test/harness/api.js';
import { finishedMeeting } from '../../test/harness/meetings.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';

let api: TestApi;
let owner: { access: string; workspaceId: string; userId: string };
let stranger: { access: string };
let fake: FakeOpenAiChat;
const MAX_BYTES = 64 * 1024;

beforeAll(async () => {
  fake = await startFakeOpenAiChat({ apiKey: 'sk-docs' });
  api = await createTestApi({ DOCUMENT_MAX_BYTES: String(MAX_BYTES) });
  owner = await api.signUp();
  stranger = await api.signUp();
});
afterAll(async () => {
  await api?.close();
  await fake?.close();
});

function expectError(res: CallResult, code: ErrorCode) {
  expect({ status: res.status, code: res.body?.error?.code }, res.text).toEqual({ status: ERROR_STATUS[code], code });
  expect(Object.keys(res.body)).toEqual(['error']);
}

const upload = (botId: string, bytes: Buffer, filename: string, token = owner.access, type = 'application/octet-stream') => {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), filename);
  return api.call('POST', `/v1/bots/${botId}/documents`, { token, body: form });
};

describe('notes', () => {
  it('creates, lists, edits and deletes notes, sealed at rest', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const body = '## Follow-ups\n- ask **legal** about the annual plan wording';
    const created = await api.call('POST', `/v1/bots/${id}/notes`, { token: owner.access, json: { body } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^note_/), bot_id: id, body, author: { type: 'user', id: owner.userId } });

    const [row] = await api.services.db.select().from(meetingNotes).where(eq(meetingNotes.id, created.body.id));
    expect(row!.bodySealed).toMatch(/^v1\./);
    expect(row!.bodySealed).not.toContain('legal');

    const second = await api.call('POST', `/v1/bots/${id}/notes`, { token: owner.access, json: { body: 'second note' } });
    const list = await api.call('GET', `/v1/bots/${id}/notes`, { token: owner.access });
    expect(list.body.notes.map((n: { body: string }) => n.body)).toEqual([body, 'second note']);

    const edited = await api.call('PATCH', `/v1/bots/${id}/notes/${second.body.id}`, { token: owner.access, json: { body: 'second, edited' } });
    expect(edited.status).toBe(200);
    expect(edited.body.body).toBe('second, edited');
    expect(Date.parse(edited.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(edited.body.created_at));

    expect((await api.call('DELETE', `/v1/bots/${id}/notes/${second.body.id}`, { token: owner.access })).status).toBe(204);
    expectError(await api.call('DELETE', `/v1/bots/${id}/notes/${second.body.id}`, { token: owner.access }), 'not_found');
    expect((await api.call('GET', `/v1/bots/${id}/notes`, { token: owner.access })).body.notes).toHaveLength(1);
  });

  it("keeps other tenants and other meetings' notes apart", async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const other = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const note = (await api.call('POST', `/v1/bots/${id}/notes`, { token: owner.access, json: { body: 'private' } })).body;
    expectError(await api.call('GET', `/v1/bots/${id}/notes`, { token: stranger.access }), 'not_found');
    expectError(await api.call('POST', `/v1/bots/${id}/notes`, { token: stranger.access, json: { body: 'x' } }), 'not_found');
    expectError(await api.call('PATCH', `/v1/bots/${id}/notes/${note.id}`, { token: stranger.access, json: { body: 'x' } }), 'not_found');
    // The note's id under another meeting of the same workspace is not that note.
    expectError(await api.call('PATCH', `/v1/bots/${other}/notes/${note.id}`, { token: owner.access, json: { body: 'x' } }), 'not_found');
    expectError(await api.call('GET', `/v1/bots/${id}/notes/export`, { token: stranger.access }), 'not_found');
  });

  it.each([[{}], [{ body: '' }], [{ body: 'x'.repeat(100_001) }], [{ body: 'x', extra: true }], [{ body: 42 }]])('refuses %j', async (json) => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    expectError(await api.call('POST', `/v1/bots/${id}/notes`, { token: owner.access, json }), 'validation_failed');
  });

  it('exports notes, summary, action items and a transcript excerpt as markdown', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    await api.services.db.insert(transcriptSegments).values({ botId: id, seq: 999, speaker: 'Mallory', startMs: 600_000, endMs: 601_000, text: '# not a heading [click](http://evil.example) <b>x</b>', words: [] });
    await runPostMeeting({ db: api.services.db, config: api.config, secrets: api.services.secrets, log: silentLogger }, { botId: id, reason: 'done' });
    await api.call('POST', `/v1/bots/${id}/notes`, { token: owner.access, json: { body: '# My heading\nRemember the **board** deck.' } });
    const res = await api.call('GET', `/v1/bots/${id}/notes/export`, { token: owner.access });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${id}-notes.md"`);
    const md = res.text;
    const section = (name: string) => md.split(`\n## ${name}\n`)[1]!.split('\n## ')[0]!;
    expect(md).toMatch(/^# Notes: product sync — meeting of 2026-03-04 09:30 UTC\n/);
    expect(section('Summary')).toMatch(/^\n- /);
    expect(section('Decisions')).toContain('- We agreed to ship the onboarding redesign to everyone on Monday.');
    expect(section('Action items')).toContain('- [ ] Chase legal for an answer by Friday. — **Tom Becker** (due 2026-03-06)');
    // The user's markdown stays markdown, its headings below the export's own.
    expect(section('Notes')).toContain('#### My heading\nRemember the **board** deck.');
    const transcript = section('Transcript (excerpt)');
    expect(transcript).toContain('**Priya Shah** [00:00:00]: Morning everyone. Three things today: the onboarding redesign, the pricing page, and the beta feedback.');
    // Transcript text is inert: no heading, link or HTML.
    expect(transcript).toContain('**Mallory** [00:10:00]: \\# not a heading \\[click\\]\\(http://evil.example\\) \\<b\\>x\\</b\\>');
  });
});

describe('documents', () => {
  it('takes a PDF (named anything), extracts its pages and uses the text as summary context', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const pdf = makePdf([['Board deck outline', 'Revenue grew 18 percent in Q4.'], ['Appendix: churn by segment.']]);
    const res = await upload(id, pdf, '../../etc/deck.txt', owner.access, 'text/plain');
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      bot_id: id,
      filename: 'deck.txt',
      kind: 'pdf',
      content_type: 'application/pdf',
      size_bytes: pdf.length,
      pages: 2,
      truncated: false,
      created_by: { type: 'user', id: owner.userId },
      url: `${api.config.PUBLIC_URL}/v1/bots/${id}/documents/${res.body.id}`,
    });
    const one = await api.call('GET', `/v1/bots/${id}/documents/${res.body.id}`, { token: owner.access });
    expect(one.body.text).toContain('Revenue grew 18 percent in Q4.');
    expect(one.body.passages.map((p: { page: number }) => p.page)).toEqual([1, 2]);
    expect(await api.services.store.stat(`bots/${id}/documents/${res.body.id}`)).toEqual({ sizeBytes: pdf.length });
    expect((await api.call('GET', `/v1/bots/${id}/documents`, { token: owner.access })).body.documents.map((d: { id: string }) => d.id)).toEqual([res.body.id]);

    // The summary job sends the document along to the model.
    fake.requests.length = 0;
    const config = loadConfig({ NODE_ENV: 'test', OPENAI_API_KEY: 'sk-docs', OPENAI_BASE_URL: fake.baseURL });
    await runPostMeeting({ db: api.services.db, config, secrets: api.services.secrets, log: silentLogger }, { botId: id, reason: 'done' });
    expect(fake.requests[0]!.user).toContain('--- deck.txt ---\nBoard deck outline\nRevenue grew 18 percent in Q4.');
  });

  it('takes DOCX, text and markdown files', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const docx = await upload(id, makeDocx(['Pricing proposal', 'Annual plan at 20 percent off.']), 'proposal.docx');
    expect(docx.status, docx.text).toBe(201);
    expect(docx.body).toMatchObject({ kind: 'docx', pages: null, text_chars: 'Pricing proposal\n\nAnnual plan at 20 percent off.'.length });
    expect((await upload(id, Buffer.from('plain notes'), 'n.txt')).body.kind).toBe('txt');
    expect((await upload(id, Buffer.from('# Agenda\n- pricing'), 'agenda.md')).body).toMatchObject({ kind: 'md', content_type: 'text/markdown; charset=utf-8' });
  });

  it.each([
    ['bytes that are no document', () => Buffer.from(Array.from({ length: 300 }, (_v, i) => (i * 91 + 7) % 256)), 'unsupported_media_type'],
    ['a legacy .doc', () => Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(100)]), 'unsupported_media_type'],
    ['a broken PDF', () => Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> nonsense'), 'invalid_document'],
    ['a DOCX cut short', () => makeDocx(['hello']).subarray(0, 100), 'invalid_document'],
    ['an empty file', () => Buffer.alloc(0), 'unsupported_media_type'],
    ['a file over DOCUMENT_MAX_BYTES', () => Buffer.from('a'.repeat(MAX_BYTES + 1)), 'payload_too_large'],
  ])('answers %s with %s, storing nothing', async (_label, bytes, code) => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    expectError(await upload(id, bytes(), 'file.pdf'), code as ErrorCode);
    expect((await api.call('GET', `/v1/bots/${id}/documents`, { token: owner.access })).body.documents).toEqual([]);
  });

  it('refuses a body over the limit before reading it, a form without a file, and a JSON body', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const huge = await upload(id, Buffer.alloc(MAX_BYTES * 3, 0x61), 'big.txt');
    expectError(huge, 'payload_too_large');
    const form = new FormData();
    form.append('title', 'no file here');
    expectError(await api.call('POST', `/v1/bots/${id}/documents`, { token: owner.access, body: form }), 'validation_failed');
    const asText = new FormData();
    asText.append('file', 'just a string');
    expectError(await api.call('POST', `/v1/bots/${id}/documents`, { token: owner.access, body: asText }), 'validation_failed');
    const json = await api.call('POST', `/v1/bots/${id}/documents`, { token: owner.access, json: { file: 'x' } });
    expect(json.status).toBeGreaterThanOrEqual(400);
    expect(json.status).toBeLessThan(500);
    const garbage = await api.call('POST', `/v1/bots/${id}/documents`, { token: owner.access, body: '--x\r\nnot really multipart', headers: { 'content-type': 'multipart/form-data; boundary=x' } });
    expect(garbage.status).toBeGreaterThanOrEqual(400);
    expect(garbage.status).toBeLessThan(500);
  });

  it("is 404 for another tenant's meeting and document", async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const doc = (await upload(id, Buffer.from('secret plan'), 'plan.txt')).body;
    expectError(await upload(id, Buffer.from('x'), 'x.txt', stranger.access), 'not_found');
    expectError(await api.call('GET', `/v1/bots/${id}/documents/${doc.id}`, { token: stranger.access }), 'not_found');
    expectError(await api.call('DELETE', `/v1/bots/${id}/documents/${doc.id}`, { token: stranger.access }), 'not_found');
    expectError(await api.call('GET', `/v1/bots/${id}/documents`, { token: stranger.access }), 'not_found');
  });

  it('deletes a document with its file and search passages', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const doc = (await upload(id, Buffer.from('temporary file'), 't.txt')).body;
    expect((await api.call('DELETE', `/v1/bots/${id}/documents/${doc.id}`, { token: owner.access })).status).toBe(204);
    expect(await api.services.store.stat(`bots/${id}/documents/${doc.id}`)).toBeNull();
    expect(await api.services.db.select().from(meetingDocumentChunks).where(eq(meetingDocumentChunks.documentId, doc.id))).toEqual([]);
    expectError(await api.call('GET', `/v1/bots/${id}/documents/${doc.id}`, { token: owner.access }), 'not_found');
  });

  it('holds at most 20 documents per meeting', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    for (let i = 0; i < 20; i++) expect((await upload(id, Buffer.from(`doc ${i}`), `${i}.txt`)).status).toBe(201);
    expectError(await upload(id, Buffer.from('one too many'), 'x.txt'), 'conflict');
  });
});

describe('DELETE /v1/bots/:id/data', () => {
  it('also deletes the summary, analytics, notes and documents', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    await runPostMeeting({ db: api.services.db, config: api.config, secrets: api.services.secrets, log: silentLogger }, { botId: id, reason: 'done' });
    await api.call('POST', `/v1/bots/${id}/notes`, { token: owner.access, json: { body: 'n' } });
    const doc = (await upload(id, Buffer.from('attached'), 'a.txt')).body;
    const res = await api.call('DELETE', `/v1/bots/${id}/data`, { token: owner.access });
    expect(res.status, res.text).toBe(200);
    expect(res.body.deleted).toMatchObject({ summary: true, analytics: true, notes: 1, documents: 1 });
    expectError(await api.call('GET', `/v1/bots/${id}/summary`, { token: owner.access }), 'not_ready');
    expect((await api.call('GET', `/v1/bots/${id}/notes`, { token: owner.access })).body.notes).toEqual([]);
    expect(await api.services.store.stat(`bots/${id}/documents/${doc.id}`)).toBeNull();
  });
});
