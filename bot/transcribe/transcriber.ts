/**
 * The speech-to-text port. Adapters: `PocketsphinxTranscriber` (local, offline),
 * `AssemblyAiTranscriber` (streaming), `OpenAiTranscriber` (chunked file requests); a cloud
 * one is wrapped by `withLocalFallback` so a failing provider hands over to the local engine.
 *
 * Times are milliseconds on the recording's clock: for live transcription, 0 is the first
 * PCM byte written; for files, the start of the file.
 */
import type { Logger } from '../../lib/log.js';

/** What `LiveTranscription.write` takes: 16 kHz, mono, signed 16-bit little endian PCM. */
export const LIVE_PCM_FORMAT = { sampleRate: 16_000, channels: 1, encoding: 's16le' } as const;

export interface TranscriptWord {
  text: string;
  startMs: number;
  endMs: number;
  /** 0..1 when the engine reports one. */
  confidence?: number;
}

export interface Utterance {
  startMs: number;
  endMs: number;
  /** The words joined by spaces (as the engine spells them, lower case for pocketsphinx). */
  text: string;
  words: TranscriptWord[];
}

export interface LiveTranscription {
  /** Appends PCM (`LIVE_PCM_FORMAT`); never blocks, buffers if the engine is behind. */
  write(pcm: Buffer): void;
  /** Called for each finished utterance, in time order. */
  onUtterance(cb: (u: Utterance) => void): void;
  /** Called once if the engine fails for good (after its own restarts). */
  onError(cb: (e: Error) => void): void;
  /** Ends the input and flushes: resolves after the last utterance was emitted. Idempotent. */
  end(): Promise<void>;
  /** Words heard so far in the utterance being spoken (engines that stream partial results). */
  onPartial?(cb: (p: PartialResult) => void): void;
  /** The engine failed and another took over the live stream (`withLocalFallback`): from `atMs` on, `to` transcribes. */
  onFallback?(cb: (e: FallbackEvent) => void): void;
}

export interface PartialResult {
  startMs: number;
  text: string;
}

export interface FallbackEvent {
  from: string;
  to: string;
  reason: string;
  /** Recording-clock time from which the fallback engine transcribes (the end of the last utterance the failed one finished). */
  atMs: number;
}

export interface Transcriber {
  readonly name: string;
  /** `env`: extra environment for engine processes (the runner labels them with NOTULA_BOT_ID). */
  startLive(opts: { language: string; log: Logger; env?: Record<string, string> }): LiveTranscription;
  /** Transcribes any audio file ffmpeg can read. */
  transcribeFile(path: string): Promise<Utterance[]>;
}
