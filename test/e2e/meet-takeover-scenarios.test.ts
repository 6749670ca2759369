/**
 * How a Meet bot ends after another Notula took it over: statuses only (what a takeover
 * records is asserted in meet-recovery.test.ts). Two Notulas over one database and DATA_DIR,
 * a real bot on the local Meet replica.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendBot, sharedState, startTestNotula, waitForBot } from '../harness/notula.js';
import { startMeetReplica, type MeetReplica } from '../replicas/meet/server.js';
import { launchParticipants, type ParticipantPool } from '../replicas/participant.js';

let replica: MeetReplica;
let people: ParticipantPool;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  replica = await startMeetReplica();
  people = await launchParticipants();
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await people?.close();
  await replica?.close();
});

const codes = (b: { status_history: { code: string }[] }) => b.status_history.map((h) => h.code);

describe('how a Meet bot ends after a takeover', () => {
  it('a later attempt that finds the call empty leaves after everyone_left_timeout_s, since people were there before', async () => {
    const { database, dataDir } = await sharedState(cleanups);
    const env = { BOT_HOST_OVERRIDES: replica.hostOverride };
    const first = await startTestNotula(env, { database, dataDir });
    cleanups.push(() => first.stop());
    const code = 'tko-empt-cal';
    replica.createMeeting(code, { lobby: false });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');
    cleanups.push(() => ada.leave());
    const botId = await sendBot(first, {
      meeting_url: replica.meetingUrl(code),
      bot_name: 'Notula Notetaker',
      // The grace for a call nobody comes to stays at its default (600 s): the test fails if the later attempt waits for it.
      automatic_leave: { everyone_left_timeout_s: 5 },
    });
    await waitForBot(first, botId, (b) => b.participants.some((p: { name: string }) => p.name === 'Ada Lovelace'), 40_000);

    // The worker stops gracefully; while no worker runs the bot, the last participant leaves.
    await first.stop();
    await ada.leave();
    const second = await startTestNotula(env, { database, dataDir, key: first.key });
    cleanups.push(() => second.stop());
    const done = await waitForBot(second, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);

    expect(codes(done).slice(-4)).toEqual(['in_call_not_recording', 'in_call_recording', 'call_ended', 'done']);
    expect(done.status_history.some((h: { message: string | null }) => /attempt 2/.test(h.message ?? ''))).toBe(true);
    const ended = done.status_history.at(-2);
    expect(ended).toMatchObject({ sub_code: 'everyone_left', message: 'everyone else left the call' });
    // Alone from its admission on: it leaves everyone_left_timeout_s later, not noone_joined_timeout_s.
    const admittedAt = Date.parse(done.status_history.at(-4).at);
    expect(Date.parse(ended.at) - admittedAt).toBeGreaterThanOrEqual(5000);
    expect(Date.parse(ended.at) - admittedAt).toBeLessThan(20_000);
  }, 150_000);
});
