/**
 * The Meet adapter's speaker signal: three named participants take quick turns (a quarter
 * second apart, shorter than the tiles' indicator holds), and the speaking sets the adapter
 * reports — with the exact change times of each remote stream's level once it knows whose
 * stream it is — must agree with who really spoke, and more closely than the tiles alone.
 * It plays speech in real time, so it runs with the media tests, one file at a time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MEETING_SCRIPT, synthesizeSpeech, voicedSpans, type SpeechFile } from '../../../test/harness/speech.js';
import { probeMeet } from './meet-adapter.js';
import { BOT, adapter, nextCode, openBot, people, replica, waitFor } from './meet-test-kit.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let lines: SpeechFile[];

beforeAll(async () => {
  lines = await Promise.all(MEETING_SCRIPT.map((t) => synthesizeSpeech(t)));
});

interface Reading {
  at: number;
  speaking: string[];
}

/** Who a step function of readings names at `t` (the last reading at or before it). */
function at(readings: readonly Reading[], t: number): string[] {
  let now: string[] = [];
  for (const r of readings) {
    if (r.at > t) break;
    now = r.speaking;
  }
  return now;
}

describe('MeetAdapter speaker signal on the Meet replica', () => {
  it('names who speaks from each stream’s level, with sharper turn changes than the tiles’ indicators', async () => {
    const code = nextCode();
    replica.createMeeting(code, { lobby: false });
    const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
    const speakers = [];
    for (const name of names) speakers.push(await people.join(replica.origin, code, name));
    const bot = await openBot(code);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.count === 4);
      for (const s of speakers) await s.waitForPeers(3, 15_000);
      expect(replica.participants(code).map((m) => m.name)).toContain(BOT);

      // Observe as the bot runner does (every 400 ms); keep the tiles' own reading beside it.
      const merged: Reading[] = [];
      const tiles: Reading[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const t0 = Date.now();
          const o = await adapter.observe(bot.ctx);
          const t1 = Date.now();
          merged.push(...(o.speakingAt ?? []), { at: (t0 + t1) / 2, speaking: o.speaking });
          tiles.push({ at: t1, speaking: (await probeMeet(bot.page)).speaking });
          await sleep(Math.max(0, 400 - (Date.now() - t0)));
        }
      })();
      const turns: { name: string; startedAt: number; endedAt: number }[] = [];
      const voiced: Awaited<ReturnType<typeof voicedSpans>>[] = [];
      for (let round = 0; round < 2; round++) {
        for (const [i, s] of speakers.entries()) {
          const line = lines[(i + round) % lines.length]!;
          voiced.push(await voicedSpans(line.path, { bridgeMs: 200 }));
          turns.push({ name: s.name, ...(await s.speak(line.path)) });
          await sleep(250);
        }
      }
      await sleep(1500);
      sampling = false;
      await sampler;
      merged.sort((a, b) => a.at - b.at);

      // Score against when each spoken file is really voiced, in the second round, when the
      // streams are known: every 20 ms of voice (less the first 120 ms of each stretch, which
      // the network and a 40 ms sampler need) must name exactly the speaker, and nobody else
      // may be named once the sound has had 200 ms to arrive and be heard (the turn-change
      // lag below, ~100 ms, is what happens before). Turn changes: how long after the new
      // speaker's first sound the signal names them.
      const score = (readings: Reading[]) => {
        let right = 0;
        let total = 0;
        let wrong = 0;
        const lags: number[] = [];
        for (const [k, turn] of turns.entries()) {
          if (k < names.length) continue;
          const spans = voiced[k]!.map((v) => ({ start: turn.startedAt + v.startMs, end: turn.startedAt + v.endMs }));
          for (const span of spans) {
            for (let t = span.start; t < span.end; t += 20) {
              const who = at(readings, t);
              if (t < span.start + 200) continue;
              if (who.some((n) => n !== turn.name)) wrong += 1;
              if (t < span.start + 120) continue;
              total += 1;
              if (who.length === 1 && who[0] === turn.name) right += 1;
            }
          }
          const onset = spans[0]!.start;
          const named = readings.find((r) => r.at >= onset - 200 && r.speaking.length === 1 && r.speaking[0] === turn.name);
          lags.push(named ? Math.max(0, named.at - onset) : Infinity);
        }
        lags.sort((a, b) => a - b);
        return { accuracy: right / total, wrong, total, lagMedian: lags[Math.floor(lags.length / 2)]!, lags };
      };
      const withLevels = score(merged);
      const tilesOnly = score(tiles);
      const fmt = (r: ReturnType<typeof score>) =>
        `${(r.accuracy * 100).toFixed(1)}% of voiced time (someone else named ${r.wrong} × 20 ms), turn change lag median ${r.lagMedian.toFixed(0)} ms [${r.lags.map((l) => l.toFixed(0)).join(', ')}]`;
      console.log(`[measure] meet speaker signal over ${(withLevels.total * 0.02).toFixed(1)} s of voice — per-track levels: ${fmt(withLevels)}; tiles alone: ${fmt(tilesOnly)}`);
      expect(withLevels.total).toBeGreaterThan(300);
      expect(merged.filter((r) => r.at < turns.at(-1)!.endedAt).length).toBeGreaterThan(tiles.length); // exact change times were reported
      expect(withLevels.accuracy).toBeGreaterThanOrEqual(0.9);
      expect(withLevels.wrong).toBe(0);
      expect(withLevels.lagMedian).toBeLessThan(tilesOnly.lagMedian);
      expect(withLevels.lagMedian).toBeLessThan(250);
    } finally {
      for (const s of speakers) await s.leave();
      await bot.close();
    }
  }, 90_000);
});
