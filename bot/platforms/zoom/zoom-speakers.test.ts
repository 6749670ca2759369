/**
 * The Zoom web-client adapter's speaker signal: participants speak in turn and the adapter's
 * `speaking` must agree with who really spoke. It plays speech in real time, so it runs with the
 * media tests, one file at a time.
 */
import { describe, expect, it } from 'vitest';
import { BENCHMARK_SCRIPT, synthesizeSpeech } from '../../../test/harness/speech.js';
import { BOT, adapter, newMeeting, openBot, people, replica, waitFor } from './zoom-test-kit.js';

describe('ZoomWebAdapter speaker signal on the Zoom replica', () => {
  it('reports who speaks from the active-speaker markup, in agreement with who really speaks', async () => {
    const id = newMeeting({ waitingRoom: false, view: 'speaker' });
    // Three speakers of the benchmark script, one line each, in turn.
    const script = BENCHMARK_SCRIPT.slice(0, 3);
    const speakers = await Promise.all(script.map((l) => people.join(replica.origin, id, l.speaker)));
    const lines = await Promise.all(script.map((l) => synthesizeSpeech(l.text)));
    const bot = await openBot(replica.meetingUrl(id));
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.count === 4);
      await adapter.dismissInCallDialogs(bot.ctx);
      await Promise.all(speakers.map((s) => s.waitForPeers(1)));
      await expect.poll(() => replica.participants(id).find((p) => p.name === BOT)?.audio, { timeout: 5000 }).toBe(true);

      const samples: { at: number; speaking: string[] }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const before = Date.now();
          const o = await adapter.observe(bot.ctx);
          samples.push({ at: (before + Date.now()) / 2, speaking: o.speaking });
          await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - before))));
        }
      })();
      const turns: { name: string; startedAt: number; endedAt: number }[] = [];
      await new Promise((r) => setTimeout(r, 1000));
      for (const [i, s] of speakers.entries()) {
        turns.push({ name: s.name, ...(await s.speak(lines[i]!.path)) });
        await new Promise((r) => setTimeout(r, 1200));
      }
      sampling = false;
      await sampler;

      const speechSamples = samples.filter((x) => turns.some((t) => x.at >= t.startedAt && x.at <= t.endedAt));
      const agree = speechSamples.filter((x) => {
        const turn = turns.find((t) => x.at >= t.startedAt && x.at <= t.endedAt)!;
        return x.speaking.length === 1 && x.speaking[0] === turn.name;
      });
      // Away from speech (0.8 s after a turn ends), nobody is marked speaking.
      const quiet = samples.filter((x) => turns.every((t) => x.at < t.startedAt || x.at > t.endedAt + 800));
      const quietAgree = quiet.filter((x) => x.speaking.length === 0);
      const pct = (100 * agree.length) / speechSamples.length;
      // Where the misses fall (ms into the turn): the line's own leading silence plus the indicator's delay.
      const misses = speechSamples
        .filter((x) => !agree.includes(x))
        .map((x) => {
          const t = turns.find((tt) => x.at >= tt.startedAt && x.at <= tt.endedAt)!;
          return `${t.name} +${Math.round(x.at - t.startedAt)}ms ${JSON.stringify(x.speaking)}`;
        });
      console.log(
        `[measure] zoom speaker signal: agrees with who speaks for ${pct.toFixed(1)}% of speech time (${agree.length}/${speechSamples.length} samples); ` +
          `silent for ${((100 * quietAgree.length) / quiet.length).toFixed(1)}% of quiet time (${quietAgree.length}/${quiet.length}); misses: ${misses.join(', ') || 'none'}`,
      );
      expect(speechSamples.length).toBeGreaterThan(30);
      expect(pct).toBeGreaterThanOrEqual(90);
      expect(quietAgree.length / quiet.length).toBeGreaterThanOrEqual(0.9);
      // The big speaker frame still shows the last speaker: it is not a speaking signal.
      expect(await bot.page.locator('.speaker-active-container__video-frame').innerText()).toContain(script[2]!.speaker);
    } finally {
      for (const s of speakers) await s.leave();
      await bot.close();
    }
  }, 60_000);
});
