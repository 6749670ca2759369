/**
 * How a Zoom bot's stay ends, end to end: real bots sent through the API to the local Zoom
 * web-client replica, each pinning the exact final status and sub_code: denied, never
 * admitted, removed, ended by the host, everyone left, leave on request, Zoom's bot wall.
 * Statuses only, so it runs beside other files; what the bot hears is asserted in
 * zoom-bot.test.ts.
 */
import { describe, it } from 'vitest';
import { waitForBot } from '../harness/notula.js';
import { BOT, codes, finished, newMeeting, sendBot, useZoomBotEnv } from './zoom-env.js';

const env = useZoomBotEnv({ concurrency: 2 });
const IN_CALL = ['scheduled', 'joining_call', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done'];

/**
 * At most two scenarios at a time: two bots share the machine's two cores with the
 * participants' browser; four at once made every join take half a minute.
 */
function limiter(n: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((r) => queue.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
const twoAtATime = limiter(2);

/** Runs a scenario two at a time; a bot it leaves live (a failed assertion) is asked to leave, so it frees its worker slot. */
const scenario = (body: (track: (botId: string) => string) => Promise<void>) =>
  twoAtATime(async () => {
    const sent: string[] = [];
    try {
      await body((botId) => (sent.push(botId), botId));
    } finally {
      for (const botId of sent) await env.notula.api('POST', `/v1/bots/${botId}/leave`).catch(() => undefined);
    }
  });

// Concurrent tests take `expect` from their context: the global one cannot tell them apart.
describe.concurrent('a Zoom bot ends with the right status and sub_code', () => {
  it('denied: turned away from the waiting room', ({ expect }) =>
    scenario(async (track) => {
      const id = newMeeting(env, { waitingRoom: true, webClient: 'classic', cookieBanner: true });
      const host = await env.people.join(env.replica.origin, id, 'Host');
      const botId = track(await sendBot(env, id));
      await env.replica.waitForKnock(id, 30_000);
      await waitForBot(env.notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
      env.replica.deny(id, BOT);
      const bot = await waitForBot(env.notula, botId, finished, 30_000);
      expect(codes(bot)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'fatal']);
      expect(bot.status).toMatchObject({ code: 'fatal', sub_code: 'denied_entry' });
      await host.leave();
    }), 90_000);

  it('never admitted: waiting_room_timeout_s runs out', ({ expect }) =>
    scenario(async (track) => {
      const id = newMeeting(env, { waitingRoom: true });
      const host = await env.people.join(env.replica.origin, id, 'Host');
      const botId = track(await sendBot(env, id, { waiting_room_timeout_s: 10 }));
      await env.replica.waitForKnock(id, 30_000);
      const bot = await waitForBot(env.notula, botId, finished, 40_000);
      expect(codes(bot)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'fatal']);
      expect(bot.status).toMatchObject({ code: 'fatal', sub_code: 'waiting_room_timeout' });
      // It left the waiting room on its way out.
      expect(env.replica.knocks(id)).toEqual([]);
      await host.leave();
    }), 90_000);

  it('removed from the call', ({ expect }) =>
    scenario(async (track) => {
      const id = newMeeting(env, { waitingRoom: false, view: 'gallery', audioPrompt: 'footer' });
      const host = await env.people.join(env.replica.origin, id, 'Host');
      const botId = track(await sendBot(env, id));
      await waitForBot(env.notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
      env.replica.remove(id, BOT);
      const bot = await waitForBot(env.notula, botId, finished, 30_000);
      expect(codes(bot)).toEqual(IN_CALL);
      expect(bot.status_history.at(-2)).toMatchObject({ code: 'call_ended', sub_code: 'removed_from_call' });
      await host.leave();
    }), 90_000);

  it('the host ends the meeting', ({ expect }) =>
    scenario(async (track) => {
      const id = newMeeting(env, { waitingRoom: false, webClient: 'classic' });
      await env.people.join(env.replica.origin, id, 'Host');
      const botId = track(await sendBot(env, id));
      await waitForBot(env.notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
      env.replica.end(id);
      const bot = await waitForBot(env.notula, botId, finished, 30_000);
      expect(codes(bot)).toEqual(IN_CALL);
      expect(bot.status_history.at(-2)).toMatchObject({ code: 'call_ended', sub_code: 'meeting_ended' });
    }), 90_000);

  it('everyone else leaves', ({ expect }) =>
    scenario(async (track) => {
      const id = newMeeting(env, { waitingRoom: false, entry: 'landing' });
      const host = await env.people.join(env.replica.origin, id, 'Host');
      const botId = track(await sendBot(env, id));
      await waitForBot(env.notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
      // The bot has seen the host (the API lists the others, not the bot itself).
      await expect
        .poll(async () => (await env.notula.api('GET', `/v1/bots/${botId}`)).body.participants.map((p: { name: string }) => p.name), { timeout: 10_000 })
        .toEqual(['Host']);
      await host.leave();
      const bot = await waitForBot(env.notula, botId, finished, 30_000);
      expect(codes(bot)).toEqual(IN_CALL);
      expect(bot.status_history.at(-2)).toMatchObject({ code: 'call_ended', sub_code: 'everyone_left' });
    }), 90_000);

  it('asked to leave through the API', ({ expect }) =>
    scenario(async (track) => {
      const id = newMeeting(env, { waitingRoom: false });
      const host = await env.people.join(env.replica.origin, id, 'Host');
      const botId = track(await sendBot(env, id));
      await waitForBot(env.notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
      const asked = await env.notula.api('POST', `/v1/bots/${botId}/leave`);
      expect(asked.status).toBeLessThan(300);
      const bot = await waitForBot(env.notula, botId, finished, 30_000);
      expect(codes(bot)).toEqual(IN_CALL);
      expect(bot.status_history.at(-2)).toMatchObject({ code: 'call_ended', sub_code: 'left_by_request' });
      // It really left the call (the Leave button, then "Leave Meeting").
      await expect.poll(() => env.replica.participants(id).map((p) => p.name), { timeout: 5000 }).toEqual(['Host']);
      await host.leave();
    }), 90_000);

  it("stopped by Zoom's bot wall", ({ expect }) =>
    scenario(async (track) => {
      const id = newMeeting(env, { botWall: true });
      const botId = track(await sendBot(env, id));
      const bot = await waitForBot(env.notula, botId, finished, 40_000);
      expect(codes(bot)).toEqual(['scheduled', 'joining_call', 'fatal']);
      expect(bot.status).toMatchObject({ code: 'fatal', sub_code: 'bot_detected' });
    }), 90_000);
});
