/**
 * AssemblyAI through its official SDK (`assemblyai`): Universal Streaming (the v3 WebSocket)
 * while the bot is in the call, and upload + transcript polling for files.
 *
 * Live: PCM goes out in 50–1000 ms messages (the server's limits). The server answers with
 * `Turn` messages: partials (`end_of_turn: false`) go to `onPartial`; a finished turn comes
 * once unformatted and once formatted (`format_turns=true`), and the formatted one is the
 * utterance (the unformatted one stands in if the socket drops before the formatted one).
 * Word times are milliseconds of that socket's audio, so each socket's times are shifted by
 * where its audio starts in the stream.
 *
 * Reconnects: if the socket drops (network, a 3005 server error, an expired session), the
 * session reconnects with backoff for up to `reconnectWindowMs`, and the new socket starts
 * with the audio after the last finished turn — the turn that was in progress is sent again,
 * and what arrived meanwhile is buffered (at most `maxBacklogMs`) — so no speech falls in the
 * gap and times stay on the stream's clock. A backlog is sent at most `catchUpFactor` times
 * faster than real time (the service rejects audio sent much faster than it is spoken).
 * Authorization and account errors (close code 1008, 4001–4003) are not retried: the session
 * reports the error and stops, and `withLocalFallback` takes over.
 */
import { AssemblyAI, type StreamingTranscriber, type TurnEvent } from 'assemblyai';
import type { Logger } from '../../lib/log.js';
import { ProviderError } from './provider-error.js';
import { leadingSilenceMs, PcmTail, pcmBytes, pcmMs, shiftUtterance, wordsToUtterances } from './pcm.js';
import type { LiveTranscription, PartialResult, TranscriptWord, Transcriber, Utterance } from './transcriber.js';

export interface AssemblyAiOptions {
  /** The API key, looked up when first needed (workspace keys live in the database). */
  apiKey: () => Promise<string>;
  /** REST API (uploads, transcripts), e.g. https://api.assemblyai.com. */
  baseUrl: string;
  /** Streaming WebSocket, e.g. wss://streaming.assemblyai.com/v3/ws. */
  streamingUrl: string;
  /** BCP-47 language of the meeting (files; live sessions take theirs from startLive). */
  language?: string;
  log?: Logger;
  /** How long a live session keeps trying to reconnect after a drop (default 30 s). */
  reconnectWindowMs?: number;
  /** Audio kept to resend after a reconnect (default 120 s). */
  maxBacklogMs?: number;
  /** How much faster than real time a backlog is sent (default 2). */
  catchUpFactor?: number;
  /** One connection attempt's limit, socket open to `Begin` (default 5 s). */
  connectTimeoutMs?: number;
  /** Polling interval for file transcripts (default 3 s). */
  pollingIntervalMs?: number;
  /** Give up on a file transcript after this long (default 2 h). */
  pollingTimeoutMs?: number;
}

/** Close and error codes that a reconnect cannot fix: authorization, account, bad parameters. */
const PERMANENT_CODES = new Set([1008, 4000, 4001, 4002, 4003, 4101]);

function classify(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { message?: string; code?: number | string };
  const message = e?.message ?? String(err);
  const code = e?.code;
  const permanent = (typeof code === 'number' && PERMANENT_CODES.has(code)) || /unauthori[sz]ed|not authori[sz]ed|invalid api key|authentication error|insufficient funds/i.test(message);
  return new ProviderError(message, !permanent, code);
}

export class AssemblyAiTranscriber implements Transcriber {
  readonly name = 'assemblyai';
  #key: Promise<string> | undefined;

  constructor(private readonly opts: AssemblyAiOptions) {}

  /** The key, resolved once (a failed lookup is retried next time). */
  key(): Promise<string> {
    this.#key ??= this.opts.apiKey().catch((err) => {
      this.#key = undefined;
      throw new ProviderError(`no AssemblyAI key: ${(err as Error).message}`, false);
    });
    return this.#key;
  }

  async client(): Promise<AssemblyAI> {
    return new AssemblyAI({ apiKey: await this.key(), baseUrl: this.opts.baseUrl });
  }

  startLive(opts: { language: string; log: Logger }): AssemblyAiLiveSession {
    return new AssemblyAiLiveSession(this, this.opts, opts.language, opts.log);
  }

  /** Uploads the file, creates a transcript and polls it; utterances are sentences (or pauses) of its words. */
  async transcribeFile(file: string): Promise<Utterance[]> {
    const client = await this.client();
    const lang = (this.opts.language ?? 'en').split('-')[0]!;
    const transcript = await client.transcripts
      .transcribe(
        { audio: file, language_code: lang, punctuate: true, format_text: true },
        { pollingInterval: this.opts.pollingIntervalMs ?? 3000, pollingTimeout: this.opts.pollingTimeoutMs ?? 2 * 3600_000 },
      )
      .catch((err: unknown) => {
        throw classify(err);
      });
    if (transcript.status === 'error') throw new ProviderError(`AssemblyAI could not transcribe the recording: ${transcript.error ?? 'unknown error'}`, true);
    const words: TranscriptWord[] = (transcript.words ?? [])
      .filter((w) => w.text.trim())
      .map((w) => ({ text: w.text.trim(), startMs: w.start, endMs: Math.max(w.end, w.start + 10), confidence: w.confidence }));
    return wordsToUtterances(words);
  }
}

export interface AssemblyAiSessionStats {
  /** Sockets opened (1 + reconnects). */
  sockets: number;
  /** Wall time of each reconnect: drop to the new socket's `Begin` (ms). */
  reconnectGapsMs: number[];
  /** Audio sent again after each reconnect (the unfinished turn and what came meanwhile, ms). */
  resentMs: number[];
  /** Audio dropped because a backlog outgrew maxBacklogMs (ms). */
  droppedMs: number;
}

const MIN_MESSAGE_MS = 50;
const MAX_MESSAGE_MS = 1000;
const PUMP_MS = 50;
export const TURN_END_MARGIN_MS = 200;

export class AssemblyAiLiveSession implements LiveTranscription {
  private rt: StreamingTranscriber | undefined;
  private state: 'connecting' | 'open' | 'failed' | 'done' = 'connecting';
  /** Audio after the last finished turn (stream clock): what a new socket starts with. */
  private readonly tail: PcmTail;
  /** Stream position (ms) where the current socket's audio starts, and how far it has been sent. */
  private socketStartMs = 0;
  private sentToMs = 0;
  private socketOpenedAt = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  private pendingFinal: TurnEvent | undefined;
  private pendingFinalOffset = 0;
  private lastEmittedTurn = -1;
  private lastError: Error | undefined;
  private endRequested = false;
  private closingOurselves = false;
  private ending: Promise<void> | undefined;
  private readonly utteranceCbs: ((u: Utterance) => void)[] = [];
  private readonly partialCbs: ((p: PartialResult) => void)[] = [];
  private readonly errorCbs: ((e: Error) => void)[] = [];
  readonly stats: AssemblyAiSessionStats = { sockets: 0, reconnectGapsMs: [], resentMs: [], droppedMs: 0 };

  constructor(
    private readonly transcriber: AssemblyAiTranscriber,
    private readonly opts: AssemblyAiOptions,
    private readonly language: string,
    private readonly log: Logger,
  ) {
    this.tail = new PcmTail(opts.maxBacklogMs ?? 120_000);
    void this.connectWithRetry(Date.now());
  }

  // ---- the port ---------------------------------------------------------------------

  write(pcm: Buffer): void {
    if (this.endRequested || this.state === 'failed' || this.state === 'done' || !pcm.length) return;
    this.tail.push(pcm);
    this.stats.droppedMs = this.tail.droppedMs;
    this.pump();
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

  end(): Promise<void> {
    this.ending ??= this.finish();
    return this.ending;
  }

  /** Whether the session gave up (state changes under awaits, which narrowing does not see). */
  hasFailed(): boolean {
    return this.state === 'failed';
  }

  // ---- connection -------------------------------------------------------------------

  private speechModel(): 'universal-streaming-english' | 'universal-streaming-multilingual' {
    return /^en(-|$)/i.test(this.language) ? 'universal-streaming-english' : 'universal-streaming-multilingual';
  }

  private async connectOnce(): Promise<void> {
    const client = await this.transcriber.client();
    const rt = client.streaming.transcriber({
      websocketBaseUrl: this.opts.streamingUrl,
      sampleRate: 16_000,
      encoding: 'pcm_s16le',
      formatTurns: true,
      speechModel: this.speechModel(),
      connectTimeout: this.opts.connectTimeoutMs ?? 5000,
      maxConnectionRetries: 0, // reconnects are ours: they resend audio and keep the clock
    });
    rt.on('turn', (t) => this.onTurn(rt, t));
    rt.on('error', (err) => {
      if (rt === this.rt) this.lastError = err;
    });
    rt.on('close', (code, reason) => this.onClose(rt, code, reason));
    this.rt = rt;
    try {
      await rt.connect();
    } catch (err) {
      if (this.rt === rt) this.rt = undefined;
      await rt.close(false).catch(() => undefined);
      throw err;
    }
    // The new socket's audio starts where the unfinished audio starts (near its first speech).
    this.tail.trimBefore(this.tail.startMs + leadingSilenceMs(this.tail.slice(this.tail.startMs)));
    this.socketStartMs = this.tail.startMs;
    this.sentToMs = this.socketStartMs;
    this.socketOpenedAt = Date.now();
    this.lastEmittedTurn = -1; // turn_order starts again on every socket
    this.state = 'open';
    this.stats.sockets += 1;
  }

  private async connectWithRetry(droppedAt: number): Promise<void> {
    const windowMs = this.opts.reconnectWindowMs ?? 30_000;
    const first = this.stats.sockets === 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.connectOnce();
        if (!first) {
          this.stats.reconnectGapsMs.push(Date.now() - droppedAt);
          this.stats.resentMs.push(this.tail.endMs - this.socketStartMs);
          this.log.info({ gapMs: Date.now() - droppedAt, resendMs: Math.round(this.tail.endMs - this.socketStartMs) }, 'assemblyai reconnected');
        }
        this.pump();
        return;
      } catch (err) {
        const e = classify(err);
        if (!e.retryable || Date.now() - droppedAt >= windowMs || this.state === 'failed') {
          this.fail(new ProviderError(`assemblyai ${first ? 'connection' : 'reconnect'} failed: ${e.message}`, e.retryable, e.code));
          return;
        }
        const delay = Math.min(8000, 250 * 2 ** attempt);
        this.log.warn({ err: e.message, code: e.code, attempt: attempt + 1, delayMs: delay }, 'assemblyai connection failed; retrying');
        await sleep(delay);
      }
    }
  }

  private onClose(rt: StreamingTranscriber, code: number, reason: string): void {
    if (rt !== this.rt || this.closingOurselves || this.state === 'failed' || this.state === 'done') return;
    this.rt = undefined;
    this.state = 'connecting';
    this.flushPendingFinal();
    const err = classify(this.lastError ?? Object.assign(new Error(reason || `socket closed (${code})`), { code }));
    this.lastError = undefined;
    if (!err.retryable) {
      this.fail(new ProviderError(`assemblyai closed the stream: ${err.message}`, false, err.code ?? code));
      return;
    }
    if (this.endRequested) {
      // Finishing: a new socket could not get the unfinished turn's result back in time.
      this.fail(new ProviderError(`assemblyai dropped the stream while it was finishing (${code}): ${err.message}`, true, code));
      return;
    }
    this.log.warn({ code, reason: err.message }, 'assemblyai stream dropped; reconnecting');
    void this.connectWithRetry(Date.now());
  }

  private fail(err: ProviderError): void {
    if (this.state === 'failed' || this.state === 'done') return;
    this.state = 'failed';
    clearTimeout(this.pumpTimer);
    const rt = this.rt;
    this.rt = undefined;
    this.closingOurselves = true;
    void rt?.close(false).catch(() => undefined);
    this.log.warn({ err: err.message, code: err.code }, 'assemblyai transcription failed');
    for (const cb of this.errorCbs) cb(err);
  }

  // ---- sending ------------------------------------------------------------------------

  /** Sends what is due: whole messages of 50–1000 ms, a backlog no faster than catchUpFactor × real time. */
  private pump(): void {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    const rt = this.rt;
    if (this.state !== 'open' || !rt) return;
    const factor = this.opts.catchUpFactor ?? 2;
    const allowedTo = this.socketStartMs + (Date.now() - this.socketOpenedAt) * factor + MAX_MESSAGE_MS;
    try {
      while (this.tail.endMs - this.sentToMs >= MIN_MESSAGE_MS && this.sentToMs < allowedTo) {
        const to = Math.min(this.tail.endMs, this.sentToMs + MAX_MESSAGE_MS);
        const audio = this.tail.slice(this.sentToMs, to);
        if (audio.length < pcmBytes(MIN_MESSAGE_MS)) break;
        rt.sendAudio(toArrayBuffer(audio));
        this.sentToMs += pcmMs(audio.length);
      }
    } catch (err) {
      // The socket went away under us; its close handler reconnects.
      this.log.debug({ err }, 'assemblyai send failed');
      return;
    }
    if (this.tail.endMs - this.sentToMs >= MIN_MESSAGE_MS) this.pumpTimer = setTimeout(() => this.pump(), PUMP_MS);
  }

  /** Waits until everything written has been sent (or the session failed). */
  private async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.state === 'failed') return false;
      if (this.state === 'open' && this.tail.endMs - this.sentToMs < MIN_MESSAGE_MS) return true;
      await sleep(PUMP_MS);
    }
    return false;
  }

  private async finish(): Promise<void> {
    this.endRequested = true;
    if (this.state === 'failed' || this.state === 'done') return;
    const backlogMs = this.tail.endMs - this.sentToMs;
    const drained = await this.drained(15_000 + backlogMs / (this.opts.catchUpFactor ?? 2));
    if (!drained) {
      this.fail(new ProviderError('assemblyai could not take the rest of the audio before the session ended', true));
      return;
    }
    const rt = this.rt!;
    // The last few ms, padded to the smallest message the service takes.
    const rest = this.tail.slice(this.sentToMs);
    if (rest.length) {
      const padded = Buffer.alloc(Math.max(rest.length, pcmBytes(MIN_MESSAGE_MS)));
      rest.copy(padded);
      try {
        rt.sendAudio(toArrayBuffer(padded));
      } catch {
        // dropped just now: the close handler fails the session
      }
      this.sentToMs += pcmMs(rest.length);
    }
    this.closingOurselves = true;
    // Terminate, then wait for `Termination`: the last turns arrive before it.
    await rt.close(true, 30_000).catch((err) => this.log.warn({ err }, 'assemblyai close failed'));
    if (this.hasFailed()) return;
    this.flushPendingFinal();
    this.state = 'done';
    this.rt = undefined;
  }

  // ---- results ------------------------------------------------------------------------

  private onTurn(rt: StreamingTranscriber, t: TurnEvent): void {
    if (rt !== this.rt || this.state === 'failed') return;
    const offset = this.socketStartMs;
    if (!t.end_of_turn) {
      if (t.transcript && t.words.length) {
        const p = { startMs: Math.round(offset + t.words[0]!.start), text: t.transcript };
        for (const cb of this.partialCbs) cb(p);
      }
      return;
    }
    if (t.turn_order <= this.lastEmittedTurn && this.pendingFinal?.turn_order !== t.turn_order) return;
    if (!t.turn_is_formatted) {
      // A later turn's end while an earlier one still waits for formatting: emit the earlier as is.
      if (this.pendingFinal && this.pendingFinal.turn_order !== t.turn_order) this.flushPendingFinal();
      this.pendingFinal = t;
      this.pendingFinalOffset = offset;
      this.commit(t, offset);
      return;
    }
    if (this.pendingFinal && this.pendingFinal.turn_order !== t.turn_order) this.flushPendingFinal();
    this.pendingFinal = undefined;
    this.emitTurn(t, offset);
  }

  /**
   * The audio up to just after a finished turn will not be needed again. A turn ends because
   * silence followed it, so starting a new socket TURN_END_MARGIN_MS after its last word
   * cuts nothing of the next turn and keeps the last word's final frames out of it.
   */
  private commit(t: TurnEvent, offset: number): void {
    const last = t.words.at(-1);
    if (last) this.tail.trimBefore(Math.min(this.sentToMs, offset + last.end + TURN_END_MARGIN_MS));
  }

  private flushPendingFinal(): void {
    const t = this.pendingFinal;
    this.pendingFinal = undefined;
    if (t) this.emitTurn(t, this.pendingFinalOffset);
  }

  private emitTurn(t: TurnEvent, offset: number): void {
    this.lastEmittedTurn = Math.max(this.lastEmittedTurn, t.turn_order);
    this.commit(t, offset);
    const words: TranscriptWord[] = t.words
      .filter((w) => w.text.trim())
      .map((w) => ({ text: w.text.trim(), startMs: Math.round(w.start), endMs: Math.round(Math.max(w.end, w.start + 10)), confidence: w.confidence }));
    if (!words.length) return;
    const u = shiftUtterance({ startMs: words[0]!.startMs, endMs: words.at(-1)!.endMs, text: words.map((w) => w.text).join(' '), words }, Math.round(offset));
    for (const cb of this.utteranceCbs) cb(u);
  }
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
