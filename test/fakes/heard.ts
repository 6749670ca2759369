/**
 * What the provider fakes "hear": they run the real local engine (pocketsphinx) on the audio
 * they received, so a transcript that comes back through a fake proves the audio reached it.
 * The fakes format text the way the real services do (sentence case, final period), which
 * also tells their output apart from the local engine's lower-case words.
 */
import { silentLogger } from '../../lib/log.js';
import { PocketsphinxTranscriber } from '../../bot/transcribe/pocketsphinx.js';

export const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

let engine: PocketsphinxTranscriber | undefined;

/** One pocketsphinx for every fake in the process. */
export function fakeEngine(): PocketsphinxTranscriber {
  engine ??= new PocketsphinxTranscriber({ modelDir: MODEL_DIR, log: silentLogger });
  return engine;
}

/** `['hello', 'everyone']` → `['Hello', 'everyone.']`. */
export function sentenceCase(words: readonly string[]): string[] {
  return words.map((w, i) => {
    let t = i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w;
    if (i === words.length - 1) t += '.';
    return t;
  });
}
