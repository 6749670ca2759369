/** A finished meeting in the database (bot, transcript, participants, recording row) for API tests. */
import { eq } from 'drizzle-orm';
import { bots, botParticipants, recordings, transcriptSegments } from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import { timedLines, type MeetingFixture } from '../fixtures/meetings.js';
import type { TestApi } from './api.js';

export async function finishedMeeting(api: TestApi, token: string, f: MeetingFixture, opts: { status?: string } = {}): Promise<string> {
  const res = await api.call('POST', '/v1/bots', { token, json: { meeting_url: 'https://meet.google.com/abc-defg-hij', bot_name: `Notes: ${f.name}` } });
  if (res.status !== 201) throw new Error(`bot create failed: ${res.status} ${res.text}`);
  const id = res.body.id as string;
  const db = api.services.db;
  const lines = timedLines(f);
  await db.update(bots).set({ status: opts.status ?? 'done', recordingStartedAt: new Date(f.meetingDate), endedAt: new Date() }).where(eq(bots.id, id));
  await db.insert(transcriptSegments).values(
    lines.map((l, seq) => ({
      botId: id,
      seq,
      speaker: l.speaker,
      startMs: l.startMs,
      endMs: l.endMs,
      text: l.text,
      words: l.text.split(/\s+/).map((w, i) => ({ text: w, start_ms: l.startMs + i * 400, end_ms: l.startMs + i * 400 + 350 })),
    })),
  );
  await db.insert(botParticipants).values(f.participants.map((name) => ({ id: newId('par'), botId: id, platformId: name, name, joinedAt: new Date() })));
  await db.insert(recordings).values({ botId: id, status: 'ready', startedAt: new Date(f.meetingDate), durationMs: lines.at(-1)!.endMs + 2000 });
  return id;
}
