/**
 * Who spoke when, on the recording's clock, from the platform's active-speaker signal (the
 * adapter's `Observation.speaking`, read every runner tick), and the attribution of
 * transcript words to those speakers.
 *
 * The signal is sampled, so a turn's edges are only known to lie between two readings: a
 * turn starts halfway between the last reading without the name and the first with it, and
 * ends halfway between the last reading with it and the first without. Adapters that can
 * timestamp changes in the page (Meet's per-track levels) give exact edges instead.
 *
 * Attribution is by evidence only: a word goes to the speaker whose turns overlap it most;
 * a word no turn overlaps goes to the nearest turn within `nearMs` (the indicator lags or
 * drops a beat at the edges of speech); otherwise it stays `null`. A single word between
 * two runs of the same speaker joins them (a flicker of another tile is not a turn). Each
 * utterance is then split where the speaker changes.
 */

export interface SpeakerTurn {
  name: string;
  startMs: number;
  endMs: number;
}

export interface TimedWord {
  text: string;
  startMs: number;
  endMs: number;
  confidence?: number;
}

export interface SpeakerSegment<W extends TimedWord = TimedWord> {
  speaker: string | null;
  startMs: number;
  endMs: number;
  text: string;
  words: W[];
}

export class SpeakerTimeline {
  /** name → start of its open turn */
  #open = new Map<string, number>();
  #closed: SpeakerTurn[] = [];
  #lastAt: number | null = null;

  constructor(turns: readonly SpeakerTurn[] = []) {
    this.#closed = [...turns];
  }

  /**
   * Records a reading: `speaking` at `atMs`. Returns the turns this reading closed (to be
   * stored). Readings must come in time order; an older one is ignored. `exact`: the set
   * changed at `atMs` itself (a timestamped change, not a sample), so edges go there, not
   * halfway to the previous reading; an exact change a little older than the last reading
   * takes effect at the last reading.
   */
  update(atMs: number, speaking: readonly string[], opts: { exact?: boolean } = {}): SpeakerTurn[] {
    if (this.#lastAt !== null && atMs < this.#lastAt) {
      if (!opts.exact) return [];
      atMs = this.#lastAt;
    }
    const edge = opts.exact || this.#lastAt === null ? atMs : (this.#lastAt + atMs) / 2;
    const now = new Set(speaking);
    const closed: SpeakerTurn[] = [];
    for (const [name, startMs] of this.#open) {
      if (now.has(name)) continue;
      this.#open.delete(name);
      if (edge > startMs) closed.push({ name, startMs, endMs: edge });
    }
    for (const name of now) if (!this.#open.has(name)) this.#open.set(name, edge);
    this.#lastAt = atMs;
    this.#closed.push(...closed);
    return closed;
  }

  /** Ends every open turn at `atMs` (the bot left, or the recording clock jumps). */
  close(atMs: number): SpeakerTurn[] {
    const closed: SpeakerTurn[] = [];
    for (const [name, startMs] of this.#open) if (atMs > startMs) closed.push({ name, startMs, endMs: atMs });
    this.#open.clear();
    this.#lastAt = null;
    this.#closed.push(...closed);
    return closed;
  }

  /** Closed turns plus open ones (ending at the last reading) that touch [fromMs, toMs]. */
  turns(fromMs = -Infinity, toMs = Infinity): SpeakerTurn[] {
    const open = [...this.#open].map(([name, startMs]) => ({ name, startMs, endMs: Math.max(startMs, this.#lastAt ?? startMs) }));
    return [...this.#closed, ...open].filter((t) => t.endMs >= fromMs && t.startMs <= toMs);
  }
}

/** The speaker of each word (see the module comment for the rules). */
export function attributeWords(words: readonly TimedWord[], turns: readonly SpeakerTurn[], nearMs = 400): (string | null)[] {
  const speakers = words.map((w) => {
    const overlap = new Map<string, number>();
    for (const t of turns) {
      const o = Math.min(w.endMs, t.endMs) - Math.max(w.startMs, t.startMs);
      if (o > 0) overlap.set(t.name, (overlap.get(t.name) ?? 0) + o);
    }
    let best: string | null = null;
    let bestMs = 0;
    for (const [name, ms] of overlap) {
      if (ms > bestMs) [best, bestMs] = [name, ms];
    }
    if (best !== null) return best;
    let nearest: string | null = null;
    let nearestGap = nearMs;
    for (const t of turns) {
      const gap = t.endMs < w.startMs ? w.startMs - t.endMs : t.startMs > w.endMs ? t.startMs - w.endMs : 0;
      if (gap <= nearestGap) [nearest, nearestGap] = [t.name, gap];
    }
    return nearest;
  });
  for (let i = 1; i + 1 < speakers.length; i++) {
    if (speakers[i] !== speakers[i - 1] && speakers[i - 1] === speakers[i + 1]) speakers[i] = speakers[i - 1]!;
  }
  return speakers;
}

/** Splits an utterance into segments, one per run of words with the same speaker. */
export function splitBySpeaker<W extends TimedWord>(words: readonly W[], turns: readonly SpeakerTurn[], nearMs?: number): SpeakerSegment<W>[] {
  const speakers = attributeWords(words, turns, nearMs);
  const segments: SpeakerSegment<W>[] = [];
  words.forEach((w, i) => {
    const speaker = speakers[i] ?? null;
    const last = segments.at(-1);
    if (last && last.speaker === speaker) {
      last.words.push(w);
      last.endMs = w.endMs;
      last.text += ` ${w.text}`;
    } else {
      segments.push({ speaker, startMs: w.startMs, endMs: w.endMs, text: w.text, words: [w] });
    }
  });
  return segments;
}
