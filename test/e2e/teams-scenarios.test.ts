/**
 * How a Teams bot's stay ends, end to end: real bots sent through the API to the local Teams
 * replica, each asserting the exact status history and sub_code (bot/status.ts END_KIND):
 * denied, never admitted, sign-in required (side by side), removed, ended by the organizer,
 * and leave on request (side by side). Statuses only, so it runs beside other files; what
 * the bot hears is asserted in teams-bot.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { waitForBot } from '../harness/notula.js';
import type { TeamsMeetingSettings } from '../replicas/teams/server.js';
import { BOT, finished as finishedIn, history, sendBot as sendBotTo, useTeamsBotEnv } from './teams-env.js';

const env = useTeamsBotEnv({ concurrency: 3 });
const sendBot = (url: string, leave?: Record<string, number>) => sendBotTo(env, url, leave);
const finished = (id: string) => finishedIn(env, id);

describe('how a Teams bot ends', () => {
  it('ends before admission: denied (fatal denied_entry), never admitted (fatal waiting_room_timeout), sign-in required (fatal sign_in_required)', async () => {
    const denied = env.replica.createMeeting({ lobby: true, launcher: 'join-on-browser', avModal: 'after-join' });
    const ignored = env.replica.createMeeting({ kind: 'meet', lobby: true, launcher: 'aria-label', toggles: 'off', lobbyText: 'Waiting to be admitted' });
    const walled = env.replica.createMeeting({ signIn: 'login' });

    const [deniedId, ignoredId, walledId] = await Promise.all([
      sendBot(denied.url),
      sendBot(ignored.url, { waiting_room_timeout_s: 10 }),
      sendBot(walled.url),
    ]);
    await env.replica.waitForKnock(denied.code, 30_000);
    await waitForBot(env.notula, deniedId, (b) => b.status.code === 'in_waiting_room', 15_000);
    env.replica.deny(denied.code, BOT);

    const [d, i, w] = await Promise.all([finished(deniedId), finished(ignoredId), finished(walledId)]);
    expect(history(d)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'fatal:denied_entry']);
    expect(history(i)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'fatal:waiting_room_timeout']);
    expect(history(w)).toEqual(['scheduled', 'joining_call', 'fatal:sign_in_required']);
    // The lobby bot waited its 10 s, then hung up.
    const waited = Date.parse(i.status_history.at(-1).at) - Date.parse(i.status_history.find((h: { code: string }) => h.code === 'in_waiting_room').at);
    expect(waited).toBeGreaterThanOrEqual(10_000);
    expect(waited).toBeLessThan(30_000); // the timeout, then the evidence (screenshot, page) and the hang-up, with three bots ending at once
    expect(env.replica.departures(ignored.code)).toEqual([{ name: BOT, how: 'cancelled' }]);
    expect(env.replica.departures(denied.code)).toEqual([{ name: BOT, how: 'denied' }]);
    for (const bot of [d, i, w]) {
      expect(bot.recording).toBeNull();
      // A failed join keeps what the page showed.
      expect(bot.debug.map((a: { kind: string }) => a.kind).sort()).toEqual(['html', 'screenshot']);
    }
  }, 90_000);

  it('ends in the call: removed (call_ended removed_from_call), ended by the organizer (call_ended meeting_ended), leave on request (call_ended left_by_request)', async () => {
    const open = (s: Partial<TeamsMeetingSettings>) => env.replica.createMeeting({ lobby: false, ...s });
    const removed = open({ client: 'light', launcher: 'none', avModal: 'before-prejoin', rosterCount: 'heading' });
    const endedM = open({ kind: 'meet', host: 'teams.live.com', hangup: 'data-tid', rosterCount: 'aria' });
    const asked = open({ client: 'light', launcher: 'aria-label', avModal: 'after-join', hangup: 'data-tid' });
    const meetings = [removed, endedM, asked];
    const hosts = await Promise.all(meetings.map((m, n) => env.people.join(env.replica.origin, m.code, ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'][n]!)));

    const ids = await Promise.all(meetings.map((m) => sendBot(m.url)));
    await Promise.all(ids.map((id) => waitForBot(env.notula, id, (b) => b.status.code === 'in_call_recording', 40_000)));
    // The alert banner shows ~1.5 s after admission; let it, and check nobody took it for a removal.
    await new Promise((r) => setTimeout(r, 2500));
    for (const id of ids) expect((await waitForBot(env.notula, id, () => true)).status.code).toBe('in_call_recording');

    env.replica.remove(removed.code, BOT);
    env.replica.end(endedM.code);
    expect((await env.notula.api('POST', `/v1/bots/${ids[2]}/leave`)).status).toBeLessThan(300);

    const [r, e, l] = await Promise.all(ids.map((id) => finished(id)));
    const inCall = ['scheduled', 'joining_call', 'in_call_not_recording', 'in_call_recording'];
    expect(history(r)).toEqual([...inCall, 'call_ended:removed_from_call', 'done']);
    expect(history(e)).toEqual([...inCall, 'call_ended:meeting_ended', 'done']);
    expect(history(l)).toEqual([...inCall, 'call_ended:left_by_request', 'done']);
    expect(env.replica.departures(asked.code)).toEqual([{ name: BOT, how: 'hung-up' }]);
    for (const bot of [r, e, l]) expect(bot.recording).toMatchObject({ status: 'ready' });
    for (const h of hosts) await h.leave();
  }, 90_000);
});
