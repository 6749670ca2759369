/**
 * Turns Meet's per-track levels (track-levels.ts) into who speaks when, with the tiles'
 * speaking indicators as the only evidence of who a track carries. A track is bound to a
 * name after it has been the only loud track while that name was the only one the tiles
 * marked, several times, and the binding decays as other evidence comes in (Meet reassigns
 * its streams). For a bound name the track's level decides, with its exact change times;
 * a name whose track is not known keeps the tiles' reading.
 */
import type { TrackLevels } from './track-levels.js';

/** Evidence a binding needs, and how fast evidence for other names fades (per observation of the track with someone else). */
const MIN_EVIDENCE = 3;
const DECAY = 0.85;

export interface SpeakingSnapshot {
  at: number;
  speaking: string[];
}

export class TrackSpeakers {
  /** track → name → weight of evidence */
  #evidence = new Map<string, Map<string, number>>();
  #loud = new Set<string>();

  /** The name a track carries, when the evidence is clear. */
  nameOf(track: string): string | null {
    const e = this.#evidence.get(track);
    if (!e) return null;
    let best: string | null = null;
    let bestW = 0;
    let total = 0;
    for (const [name, w] of e) {
      total += w;
      if (w > bestW) [best, bestW] = [name, w];
    }
    return best !== null && bestW >= MIN_EVIDENCE && bestW / total >= 0.7 ? best : null;
  }

  /**
   * One observation: the level changes since the last one and the names the tiles mark now.
   * Returns the speaking set at each level change of a bound track (exact times) and the
   * set now.
   */
  observe(levels: TrackLevels, tiles: readonly string[]): { snapshots: SpeakingSnapshot[]; speaking: string[] } {
    // Learn: exactly one loud track while exactly one tile speaks.
    const loudNow = new Set(levels.loud);
    if (loudNow.size === 1 && tiles.length === 1) {
      const [track] = loudNow;
      const e = this.#evidence.get(track!) ?? new Map<string, number>();
      for (const [name, w] of e) if (name !== tiles[0]) e.set(name, w * DECAY);
      e.set(tiles[0]!, (e.get(tiles[0]!) ?? 0) + 1);
      this.#evidence.set(track!, e);
    }
    const bound = new Map<string, string>();
    for (const track of this.#evidence.keys()) {
      const name = this.nameOf(track);
      if (name) bound.set(track, name);
    }
    const boundNames = new Set(bound.values());
    const unboundTiles = tiles.filter((n) => !boundNames.has(n));
    const setOf = (loud: Set<string>) => [...new Set([...[...loud].flatMap((t) => (bound.has(t) ? [bound.get(t)!] : [])), ...unboundTiles])].sort();

    const snapshots: SpeakingSnapshot[] = [];
    for (const c of [...levels.changes].sort((a, b) => a.at - b.at)) {
      if (c.loud) this.#loud.add(c.track);
      else this.#loud.delete(c.track);
      if (bound.has(c.track)) snapshots.push({ at: c.at, speaking: setOf(this.#loud) });
    }
    this.#loud = loudNow;
    return { snapshots, speaking: setOf(loudNow) };
  }
}
