/**
 * The core loop, end to end: a real bot (Chromium under Xvfb, PulseAudio, ffmpeg,
 * pocketsphinx) is sent through the API to the local Meet replica, knocks, waits in the
 * lobby, is admitted, records a participant who speaks over real WebRTC audio, and leaves
 * when the participant leaves. A WebSocket client follows the bot live, and a webhook
 * receiver (verifying with `standardwebhooks`) gets its signed events.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { attributionAccuracy, wordErrorRate } from '../../lib/wer.js';
import { LiveClient } from '../harness/live-client.js';
import { sendBot, startTestNotula, waitForBot, type TestNotula } from '../harness/notula.js';
import { WebhookReceiver } from '../harness/webhook-receiver.js';
import { MEETING_SCRIPT, synthesizeSpeech } from '../harness/speech.js';
import { startMeetReplica, type MeetReplica } from '../replicas/meet/server.js';
import { launchParticipants, type ParticipantPool } from '../replicas/participant.js';

const execFileP = promisify(execFile);

let replica: MeetReplica;
let people: ParticipantPool;
let notula: TestNotula;
let receiver: WebhookReceiver;

beforeAll(async () => {
  replica = await startMeetReplica();
  people = await launchParticipants();
  notula = await startTestNotula({ BOT_HOST_OVERRIDES: replica.hostOverride, WEBHOOKS_ALLOW_PRIVATE: 'true' });
  receiver = await WebhookReceiver.start('whsec_placeholder');
  const endpoint = await notula.api('POST', '/v1/webhook-endpoints', { url: receiver.url() });
  expect(endpoint.status).toBe(201);
  receiver.secret = endpoint.body.secret;
}, 120_000);

afterAll(async () => {
  await receiver?.stop();
  await notula?.stop();
  await people?.close();
  await replica?.close();
});

describe('a Meet bot end to end', () => {
  it('joins through the lobby, records and transcribes what is said, and leaves when everyone has left', async () => {
    const code = 'kfp-qrzt-wmx';
    replica.createMeeting(code, { lobby: true, toolbar: '2026', postJoinModal: 'recording-notice' });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');
    const grace = await people.join(replica.origin, code, 'Grace Hopper');
    const voices = [ada, grace, ada];
    const lines = await Promise.all(MEETING_SCRIPT.map((text) => synthesizeSpeech(text)));

    const botId = await sendBot(notula, { meeting_url: replica.meetingUrl(code), bot_name: 'Notula Notetaker', automatic_leave: { everyone_left_timeout_s: 3 } });
    const stream = await LiveClient.connect(notula.url, botId, { token: notula.key });

    expect((await replica.waitForKnock(code, 30_000)).name).toBe('Notula Notetaker');
    await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
    replica.admit(code, 'Notula Notetaker');
    await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 20_000);
    await ada.waitForPeers(2, 10_000);

    const spoken: { startedAt: number; endedAt: number }[] = [];
    for (const [i, line] of lines.entries()) {
      spoken.push(await voices[i]!.speak(line.path));
      await new Promise((r) => setTimeout(r, 700));
    }
    // Segments are stored as they are spoken, before the bot leaves.
    const live = await waitForBot(notula, botId, () => true);
    expect(live.status.code).toBe('in_call_recording');
    await expect
      .poll(async () => (await notula.api('GET', `/v1/bots/${botId}/transcript`)).body.segments.length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    expect(live.participants.map((p: { name: string }) => p.name).sort()).toEqual(['Ada Lovelace', 'Grace Hopper']);
    // The recording notice went to the call's chat on admission.
    expect(replica.chatMessages(code)).toContainEqual(
      expect.objectContaining({ from: 'Notula Notetaker', text: 'Notula Notetaker is recording and transcribing this meeting.' }),
    );

    await grace.leave();
    await ada.leave();
    const done = await waitForBot(notula, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);

    expect(done.status_history.map((h: { code: string }) => h.code)).toEqual([
      'scheduled',
      'joining_call',
      'in_waiting_room',
      'in_call_not_recording',
      'in_call_recording',
      'call_ended',
      'done',
    ]);
    const ended = done.status_history.find((h: { code: string }) => h.code === 'call_ended');
    expect(ended.sub_code).toBe('everyone_left');
    for (const p of done.participants) expect(p.left_at).not.toBeNull();

    // The recording is one playable file covering what was said.
    expect(done.recording).toMatchObject({ status: 'ready' });
    const res = await fetch(`${notula.url}/v1/bots/${botId}/recording`, { headers: { authorization: `Bearer ${notula.key}` } });
    expect(res.status).toBe(200);
    const file = path.join(notula.dataDir, 'downloaded.ogg');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    const spokenMs = lines.reduce((s, l) => s + l.durationMs, 0);
    expect(Number(stdout) * 1000).toBeGreaterThan(spokenMs);

    const transcript = (await notula.api('GET', `/v1/bots/${botId}/transcript`)).body;
    const heard = transcript.segments.map((s: { text: string }) => s.text).join(' ');
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard);
    console.log(`live transcript WER ${(wer * 100).toFixed(1)}%: "${heard}"`);
    expect(wer).toBeLessThan(0.15);
    for (const s of transcript.segments) {
      expect(s.end_ms).toBeGreaterThan(s.start_ms);
      expect(s.words.length).toBeGreaterThan(0);
    }
    // Every segment is one speaker's, named from the tiles' speaking indicators.
    const script = MEETING_SCRIPT.map((text, i) => ({ speaker: voices[i]!.name, text }));
    const attribution = attributionAccuracy(script, transcript.segments);
    console.log(`[measure] speaker attribution ${(attribution.accuracy * 100).toFixed(1)}% of ${attribution.matchedWords} words (${attribution.unattributed} unattributed)`);
    expect(attribution.accuracy).toBeGreaterThanOrEqual(0.9);

    // The live stream saw it all as it happened, in order, and closed when the bot was done.
    expect(await stream.closed).toEqual({ code: 1000, reason: 'bot finished' });
    expect(stream.events.map((e) => e.seq)).toEqual(stream.events.map((_, i) => i + 1));
    expect(stream.events.filter((e) => e.type === 'bot.status_change').map((e) => e.data.status.code)).toEqual(done.status_history.map((h: { code: string }) => h.code));
    expect(stream.events.filter((e) => e.type === 'participant.join').map((e) => e.data.participant.name)).toContain('Ada Lovelace');
    const liveSegments = stream.events.filter((e) => e.type === 'transcript.segment');
    expect(liveSegments.map((e) => e.data.segment.text)).toEqual(transcript.segments.map((s: { text: string }) => s.text));
    expect(stream.events.at(-1)!.type).toBe('transcript.done');
    // Segments reached the socket while the bot was still in the call, pushed (the live poll is 5 s) within 2.5 s of being stored.
    const stored = (
      await notula.database.db.execute(sql`select seq, extract(epoch from created_at) * 1000 as at from transcript_segments where bot_id = ${botId} order by seq`)
    ).rows as { seq: number; at: string }[];
    const inCallUntil = stream.events.find((e) => e.data.status?.code === 'call_ended')!.receivedAt;
    for (const e of liveSegments) {
      const at = Number(stored.find((r) => r.seq === e.data.segment.seq)!.at);
      expect(e.receivedAt - at).toBeLessThan(2500);
      expect(e.receivedAt).toBeLessThan(inCallUntil);
    }
    const lineDelays = spoken.map((line, i) => {
      const mine = liveSegments.filter((e) => e.receivedAt > line.startedAt && e.receivedAt <= (spoken[i + 1]?.startedAt ?? line.endedAt + 15_000));
      return mine.length ? Math.max(...mine.map((e) => e.receivedAt)) - line.endedAt : null;
    });
    console.log(`line end → segment on the WebSocket: ${lineDelays.map((d) => (d === null ? 'none' : `${d} ms`)).join(', ')}`);

    // The webhook receiver got every webhook event of the log, signed, each once under its own id.
    const { rows: logged } = await notula.database.db.execute(
      sql`select id, type from events where bot_id = ${botId} and type not like 'participant.%' order by seq`,
    );
    await receiver.waitFor(() => new Set(receiver.received.map((r) => r.id)).size >= logged.length, 20_000);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const byId = new Map(receiver.received.map((r) => [r.id, r.json]));
    expect([...byId.keys()].sort()).toEqual(logged.map((r) => r.id as string).sort());
    const hooks = logged.map((r) => byId.get(r.id as string)!);
    expect(hooks.filter((h) => h.type === 'bot.status_change').map((h) => h.data.status.code)).toEqual(done.status_history.map((h: { code: string }) => h.code));
    expect(hooks.filter((h) => h.type === 'transcript.segment')).toHaveLength(transcript.segments.length);
    expect(hooks.find((h) => h.type === 'recording.done')!.data.recording.status).toBe('ready');
    expect(hooks.find((h) => h.type === 'transcript.done')!.data.segment_count).toBe(transcript.segments.length);
    // The post-meeting job (sent with the move to done) wrote analytics and a summary.
    let summary: { status: number; body: any } = { status: 0, body: undefined };
    for (let i = 0; i < 100 && summary.status !== 200; i++) {
      summary = await notula.api('GET', `/v1/bots/${botId}/summary`);
      if (summary.status !== 200) await new Promise((r) => setTimeout(r, 300));
    }
    expect(summary.status, JSON.stringify(summary.body)).toBe(200);
    expect(summary.body).toMatchObject({ status: 'ready', generator: 'offline' });
    expect(summary.body.summary).toMatch(/^- /);
    console.log(`[measure] offline summary of the live transcript: ${JSON.stringify({ decisions: summary.body.decisions, action_items: summary.body.action_items })}`);
    expect(summary.body.decisions.length + summary.body.action_items.length).toBeGreaterThan(0);
    const analytics = (await notula.api('GET', `/v1/bots/${botId}/analytics`)).body;
    expect(analytics.final).toBe(true);
    expect(analytics.speakers.map((s: { name: string }) => s.name).sort()).toEqual([...new Set(voices.map((v) => v.name))].sort());
    for (const s of analytics.speakers) expect(s.talk_ms).toBeGreaterThan(0);
  }, 180_000);
});
