/**
 * A cloud transcriber with the local engine behind it. The live session keeps the audio the
 * cloud engine has not answered for yet (everything after the end of the last utterance it
 * emitted, at most `maxReplayMs`); if the cloud session fails for good (authorization, a
 * drop it could not reconnect, 5xx past its retries), the local engine starts, is given that
 * audio first and then the live stream, and its utterances continue on the same clock. So
 * the transcript has no gap: what the cloud engine was still working on is transcribed
 * locally. `onFallback` tells the runner, which notes it in the status history and has the
 * transcript redone from the recording by the cloud provider once it answers again.
 */
import type { Logger } from '../../lib/log.js';
import { TURN_END_MARGIN_MS } from './assemblyai.js';
import { leadingSilenceMs, PcmTail, shiftUtterance } from './pcm.js';
import type { FallbackEvent, LiveTranscription, PartialResult, Transcriber, Utterance } from './transcriber.js';

export interface FallbackOptions {
  /** Audio kept for the hand-over, at most (default 10 min). */
  maxReplayMs?: number;
  /** Name of the fallback engine in events and the status history (default `local`). */
  fallbackLabel?: string;
}

export function withLocalFallback(primary: Transcriber, fallback: Transcriber, opts: FallbackOptions = {}): Transcriber {
  return {
    name: primary.name,
    startLive: (o) => new FallbackSession(primary, fallback, o, opts),
    transcribeFile: (file) => primary.transcribeFile(file),
  };
}

type StartOpts = Parameters<Transcriber['startLive']>[0];

export class FallbackSession implements LiveTranscription {
  private readonly primary: LiveTranscription;
  private secondary: LiveTranscription | undefined;
  private tail: PcmTail | undefined;
  private committedMs = 0;
  private ending: Promise<void> | undefined;
  private readonly utteranceCbs: ((u: Utterance) => void)[] = [];
  private readonly partialCbs: ((p: PartialResult) => void)[] = [];
  private readonly errorCbs: ((e: Error) => void)[] = [];
  private readonly fallbackCbs: ((e: FallbackEvent) => void)[] = [];
  private readonly log: Logger;

  constructor(
    private readonly primaryT: Transcriber,
    private readonly fallbackT: Transcriber,
    private readonly startOpts: StartOpts,
    private readonly opts: FallbackOptions,
  ) {
    this.log = startOpts.log;
    this.tail = new PcmTail(opts.maxReplayMs ?? 10 * 60_000);
    this.primary = primaryT.startLive(startOpts);
    this.primary.onUtterance((u) => {
      if (this.secondary) return;
      // An utterance ends at a pause: the hand-over starts a little after its last word (see TURN_END_MARGIN_MS).
      this.committedMs = Math.max(this.committedMs, Math.min(this.tail?.endMs ?? u.endMs, u.endMs + TURN_END_MARGIN_MS));
      this.tail?.trimBefore(this.committedMs);
      this.emit(u);
    });
    this.primary.onPartial?.((p) => {
      if (!this.secondary) for (const cb of this.partialCbs) cb(p);
    });
    this.primary.onError((err) => this.handOver(err));
  }

  /** Which engine transcribes the live stream now. */
  get engine(): string {
    return this.secondary ? (this.opts.fallbackLabel ?? 'local') : this.primaryT.name;
  }

  write(pcm: Buffer): void {
    if (this.ending || !pcm.length) return;
    if (this.secondary) {
      this.secondary.write(pcm);
      return;
    }
    this.tail?.push(pcm);
    this.primary.write(pcm);
  }

  onUtterance(cb: (u: Utterance) => void): void {
    this.utteranceCbs.push(cb);
  }

  onPartial(cb: (p: PartialResult) => void): void {
    this.partialCbs.push(cb);
  }

  onError(cb: (e: Error) => void): void {
    this.errorCbs.push(cb);
  }

  onFallback(cb: (e: FallbackEvent) => void): void {
    this.fallbackCbs.push(cb);
  }

  end(): Promise<void> {
    this.ending ??= (async () => {
      await this.primary.end().catch((err) => this.log.warn({ err }, 'primary transcriber did not end cleanly'));
      // The primary may have failed while finishing; then the fallback has the rest.
      if (this.secondary) await this.secondary.end();
    })();
    return this.ending;
  }

  private emit(u: Utterance): void {
    for (const cb of this.utteranceCbs) cb(u);
  }

  private handOver(err: Error): void {
    if (this.secondary) return;
    const tail = this.tail!;
    const committed = Math.max(this.committedMs, tail.startMs);
    const fromMs = committed + leadingSilenceMs(tail.slice(committed));
    const replay = tail.slice(fromMs);
    this.tail = undefined;
    const to = this.opts.fallbackLabel ?? 'local';
    this.log.warn({ from: this.primaryT.name, to, atMs: Math.round(fromMs), replayMs: Math.round(tail.endMs - fromMs), err: err.message }, 'transcription falls back to the local engine');
    const secondary = this.fallbackT.startLive(this.startOpts);
    this.secondary = secondary;
    secondary.onUtterance((u) => this.emit(shiftUtterance(u, Math.round(fromMs))));
    secondary.onError((e) => {
      for (const cb of this.errorCbs) cb(e);
    });
    secondary.write(replay);
    const event: FallbackEvent = { from: this.primaryT.name, to, reason: err.message, atMs: Math.round(fromMs) };
    for (const cb of this.fallbackCbs) cb(event);
  }
}
