/**
 * The Teams adapter's speaker signal: named participants speak in turn over the conference
 * mixer, and the adapter's `speaking` must agree with who really spoke. It plays speech in real
 * time, so it runs with the media tests, one file at a time.
 */
import { describe, expect, it } from 'vitest';
import { BOT, adapter, lines, openBot, people, replica, sleep, waitFor } from './teams-test-kit.js';

describe('TeamsAdapter speaker signal on the Teams replica', () => {
  it('reads who is speaking from the voice-level outline, in agreement with who really speaks', async () => {
    const m = replica.createMeeting({ lobby: false, launcher: 'continue', client: 'v2', rosterCount: 'badge' });
    const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
    const speakers = [];
    for (const name of names) speakers.push(await people.join(replica.origin, m.code, name));
    const bot = await openBot(m.url);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.count === 4);
      for (const s of speakers) await s.waitForPeers(3, 15_000);
      expect(replica.mediaConnected(m.code, BOT)).toBe(true);
      await sleep(500);

      const samples: { at: number; speaking: string[] }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const t0 = Date.now();
          const o = await adapter.observe(bot.ctx);
          const t1 = Date.now();
          samples.push({ at: (t0 + t1) / 2, speaking: o.speaking });
          await sleep(Math.max(0, 200 - (t1 - t0)));
        }
      })();
      const turns: { name: string; startedAt: number; endedAt: number }[] = [];
      for (const [i, s] of speakers.entries()) {
        turns.push({ name: s.name, ...(await s.speak(lines[i]!.path)) });
        await sleep(1000);
      }
      sampling = false;
      await sampler;

      const during = (at: number) => turns.find((t) => at >= t.startedAt && at <= t.endedAt);
      const inSpeech = samples.filter((s) => during(s.at));
      const agree = inSpeech.filter((s) => s.speaking.length === 1 && s.speaking[0] === during(s.at)!.name);
      const silent = samples.filter((s) => !during(s.at) && turns.every((t) => s.at < t.startedAt - 100 || s.at > t.endedAt + 700));
      const quiet = silent.filter((s) => s.speaking.length === 0);
      const accuracy = agree.length / inSpeech.length;
      const speechS = turns.reduce((a, t) => a + (t.endedAt - t.startedAt), 0) / 1000;
      console.log(
        `[measure] teams speaker signal: ${(accuracy * 100).toFixed(1)}% of ${speechS.toFixed(1)} s speech time names exactly the speaker ` +
          `(${agree.length}/${inSpeech.length} samples at ~200 ms); silence marked silent ${quiet.length}/${silent.length}`,
      );
      expect(inSpeech.length).toBeGreaterThan(40);
      expect(accuracy).toBeGreaterThanOrEqual(0.9);
      // Nobody else is ever named while one person talks.
      expect(inSpeech.filter((s) => s.speaking.some((n) => n !== during(s.at)!.name))).toEqual([]);
    } finally {
      for (const s of speakers) await s.leave();
      await bot.close();
    }
  }, 60_000);
});
