/**
 * OpenAI speech-to-text through the official SDK (`openai`): `audio.transcriptions.create`
 * on pieces of the audio. OpenAI has no streaming transcription of raw PCM in this API, so a
 * live session cuts the stream into chunks at pauses (at least `minChunkMs`, at most
 * `maxChunkMs`, ~10–30 s), sends each as an in-memory WAV while the call goes on, and emits
 * its utterances when the answer comes: the live transcript trails speech by a chunk. Chunks
 * with no voiced audio are not sent (Whisper invents text for silence). Files are decoded
 * with ffmpeg and sent the same way in pieces of up to five minutes (WAV stays under the
 * API's 25 MB limit).
 *
 * Models: `whisper-1` (the default) answers `verbose_json` with word and segment times, so
 * words keep their real times. `gpt-4o-transcribe` and `gpt-4o-mini-transcribe` are more
 * accurate but answer only `json` (text): their word times are estimated by laying the
 * words over the chunk's voiced stretches in proportion to their length
 * (`estimateWordTimes`), good to a few hundred milliseconds — enough for speaker attribution
 * and links into the recording, not for word-accurate subtitles.
 *
 * Failures: the SDK retries 429/5xx/connection errors itself (twice, with backoff); a chunk
 * that still fails is tried again for up to `retryWindowMs`. Authorization errors (401/403)
 * and a rejected request (400) are not retried: the session reports the error and stops, and
 * `withLocalFallback` takes over from the end of the last utterance it emitted.
 */
import { spawn } from 'node:child_process';
import OpenAI, { toFile } from 'openai';
import type { Logger } from '../../lib/log.js';
import { ProviderError } from './provider-error.js';
import { estimateWordTimes, leadingSilenceMs, PcmChunker, type PcmChunk, pcmBytes, pcmMs, shiftUtterance, voicedSpans, wavFromPcm, wordsToUtterances } from './pcm.js';
import type { LiveTranscription, TranscriptWord, Transcriber, Utterance } from './transcriber.js';

export interface OpenAiOptions {
  apiKey: () => Promise<string>;
  /** e.g. https://api.openai.com/v1 */
  baseUrl: string;
  model: string;
  language?: string;
  log?: Logger;
  /** Live chunks: at least / at most this long (default 10 s / 30 s), cut at a pause of `pauseMs` (600 ms). */
  minChunkMs?: number;
  maxChunkMs?: number;
  pauseMs?: number;
  /** How long a failing chunk is retried (beyond the SDK's own retries) before the session gives up (default 30 s). */
  retryWindowMs?: number;
  ffmpegBin?: string;
}

/** Models that answer verbose_json with word times. */
const TIMED_MODELS = /^whisper-/;
const FILE_CHUNK = { minMs: 4 * 60_000, maxMs: 5 * 60_000, pauseMs: 500 };

function classify(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof OpenAI.APIError && err.status !== undefined) {
    const retryable = err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
    return new ProviderError(`openai ${err.status}: ${err.message}`, retryable, err.status);
  }
  return new ProviderError(`openai: ${(err as Error)?.message ?? String(err)}`, true);
}

export class OpenAiTranscriber implements Transcriber {
  readonly name = 'openai';
  #client: Promise<OpenAI> | undefined;

  constructor(private readonly opts: OpenAiOptions) {}

  client(): Promise<OpenAI> {
    this.#client ??= this.opts.apiKey().then(
      (apiKey) => new OpenAI({ apiKey, baseURL: this.opts.baseUrl, maxRetries: 2, timeout: 120_000 }),
      (err: Error) => {
        this.#client = undefined;
        throw new ProviderError(`no OpenAI key: ${err.message}`, false);
      },
    );
    return this.#client;
  }

  /** One chunk of PCM → utterances on the chunk's clock shifted by `chunk.startMs`. */
  async transcribeChunk(whole: PcmChunk, language: string | undefined): Promise<Utterance[]> {
    // Sent from just before its first speech: leading silence costs and can throw a decoder off.
    const skip = pcmBytes(leadingSilenceMs(whole.pcm));
    const chunk = { startMs: whole.startMs + pcmMs(skip), pcm: whole.pcm.subarray(skip) };
    if (!chunk.pcm.length) return [];
    const client = await this.client();
    const file = await toFile(wavFromPcm(chunk.pcm), 'chunk.wav', { type: 'audio/wav' });
    const lang = language?.split('-')[0];
    const model = this.opts.model;
    try {
      if (TIMED_MODELS.test(model)) {
        const res = await client.audio.transcriptions.create({
          file,
          model,
          response_format: 'verbose_json',
          timestamp_granularities: ['word', 'segment'],
          ...(lang ? { language: lang } : {}),
        });
        return timedUtterances(res, chunk.startMs);
      }
      const res = await client.audio.transcriptions.create({ file, model, response_format: 'json', ...(lang ? { language: lang } : {}) });
      const texts = res.text.split(/\s+/).filter(Boolean);
      return wordsToUtterances(estimateWordTimes(texts, chunk.pcm, chunk.startMs));
    } catch (err) {
      throw classify(err);
    }
  }

  startLive(opts: { language: string; log: Logger }): LiveTranscription {
    return new OpenAiLiveSession(this, this.opts, opts.language, opts.log);
  }

  /** Decodes the file to PCM and transcribes it in pieces of up to five minutes, in order. */
  async transcribeFile(path: string): Promise<Utterance[]> {
    const chunker = new PcmChunker(FILE_CHUNK);
    const out: Utterance[] = [];
    const send = async (c: PcmChunk) => {
      if (voicedSpans(c.pcm).length === 0) return;
      out.push(...(await this.transcribeChunk(c, this.opts.language)));
    };
    const ff = spawn(this.opts.ffmpegBin ?? 'ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', path, '-vn', '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    ff.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const exit = new Promise<number | null>((resolve, reject) => {
      ff.once('error', reject);
      ff.once('close', resolve);
    });
    try {
      for await (const pcm of ff.stdout as AsyncIterable<Buffer>) {
        for (const c of chunker.push(pcm)) await send(c);
      }
    } finally {
      if (ff.exitCode === null && ff.signalCode === null) ff.kill('SIGKILL');
    }
    const code = await exit;
    if (code !== 0) throw new Error(`ffmpeg could not decode ${path}: ${stderr.trim() || `exit ${code}`}`);
    const last = chunker.flush();
    if (last) await send(last);
    return out;
  }
}

/** whisper-1 verbose_json: one utterance per segment, holding the words that fall in it. */
export function timedUtterances(res: OpenAI.Audio.TranscriptionVerbose, offsetMs: number): Utterance[] {
  const words: TranscriptWord[] = (res.words ?? [])
    .filter((w) => w.word.trim())
    .map((w) => ({ text: w.word.trim(), startMs: Math.round(w.start * 1000), endMs: Math.round(Math.max(w.end, w.start + 0.01) * 1000) }));
  const segments = res.segments ?? [];
  if (!segments.length) return wordsToUtterances(words).map((u) => shiftUtterance(u, Math.round(offsetMs)));
  const out: Utterance[] = [];
  let i = 0;
  for (const [n, seg] of segments.entries()) {
    const endMs = n === segments.length - 1 ? Infinity : seg.end * 1000;
    const mine: TranscriptWord[] = [];
    while (i < words.length && (words[i]!.startMs + words[i]!.endMs) / 2 <= endMs) mine.push(words[i++]!);
    if (!mine.length) continue;
    out.push({ startMs: mine[0]!.startMs, endMs: mine.at(-1)!.endMs, text: mine.map((w) => w.text).join(' '), words: mine });
  }
  return out.map((u) => shiftUtterance(u, Math.round(offsetMs)));
}

class OpenAiLiveSession implements LiveTranscription {
  private readonly chunker: PcmChunker;
  private queue: PcmChunk[] = [];
  private working: Promise<void> | undefined;
  private failed = false;
  private ending: Promise<void> | undefined;
  private readonly utteranceCbs: ((u: Utterance) => void)[] = [];
  private readonly errorCbs: ((e: Error) => void)[] = [];

  constructor(
    private readonly transcriber: OpenAiTranscriber,
    private readonly opts: OpenAiOptions,
    private readonly language: string,
    private readonly log: Logger,
  ) {
    this.chunker = new PcmChunker({ minMs: opts.minChunkMs ?? 10_000, maxMs: opts.maxChunkMs ?? 30_000, pauseMs: opts.pauseMs ?? 600 });
  }

  write(pcm: Buffer): void {
    if (this.failed || this.ending || !pcm.length) return;
    this.enqueue(this.chunker.push(pcm));
  }

  onUtterance(cb: (u: Utterance) => void): void {
    this.utteranceCbs.push(cb);
  }

  onError(cb: (e: Error) => void): void {
    this.errorCbs.push(cb);
  }

  end(): Promise<void> {
    this.ending ??= (async () => {
      const last = this.chunker.flush();
      if (last) this.enqueue([last]);
      while (this.working) await this.working;
    })();
    return this.ending;
  }

  private enqueue(chunks: PcmChunk[]): void {
    if (!chunks.length) return;
    this.queue.push(...chunks);
    this.working ??= this.work().finally(() => (this.working = undefined));
  }

  /** Sends chunks one at a time, in order, so utterances come out in time order. */
  private async work(): Promise<void> {
    while (this.queue.length && !this.failed) {
      const chunk = this.queue[0]!;
      if (voicedSpans(chunk.pcm).length === 0) {
        this.queue.shift();
        continue;
      }
      const utterances = await this.withRetries(chunk);
      if (!utterances) return;
      this.queue.shift();
      for (const u of utterances) for (const cb of this.utteranceCbs) cb(u);
    }
  }

  private async withRetries(chunk: PcmChunk): Promise<Utterance[] | null> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.transcriber.transcribeChunk(chunk, this.language);
      } catch (err) {
        const e = err as ProviderError;
        if (!e.retryable || Date.now() - started >= (this.opts.retryWindowMs ?? 30_000)) {
          this.failed = true;
          this.queue = [];
          this.log.warn({ err: e.message, code: e.code }, 'openai transcription failed');
          for (const cb of this.errorCbs) cb(e);
          return null;
        }
        this.log.warn({ err: e.message, attempt: attempt + 1 }, 'openai chunk failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** attempt)));
      }
    }
  }
}
