/**
 * Local, offline speech-to-text with CMU PocketSphinx (`pocketsphinx_continuous`, the
 * 5prealpha CLI) and its US-English model.
 *
 * Live: 16 kHz PCM goes to the decoder's stdin; with `-time yes` it prints, per utterance, a
 * hypothesis line and then `word start end posterior` lines ending with `</s>`, and flushes
 * stdout after each utterance, so we emit utterances as they end. The CLI insists on
 * `-infile <path>` and cannot open `/dev/stdin` when it is the socket Node gives a child,
 * so it runs behind `sh -c 'cat | exec pocketsphinx_continuous -infile /dev/stdin …'`, where
 * stdin is a real pipe.
 *
 * Tuning (measured with 24 festival-spoken meeting sentences fed in real time; the tests
 * print WER, delay and CPU as `[measure]` lines):
 * - `-vad_postspeech 30` (default 50): an utterance ends after 0.3 s of silence instead of
 *   0.5 s; the delay from the end of a sentence to its utterance event drops from ~660 ms to
 *   ~450 ms (~520 ms through sink and capture), and the WER was no worse (18.8 % vs 20.6 %).
 * - `-vad_startspeech 14` (default 10): works around a decoder bug. The CLI reads 2048
 *   samples (12.8 frames) at a time and only then asks whether speech ended; if the VAD ends
 *   speech and detects new speech inside one read, the utterance goes on but its start frame
 *   is overwritten by the new onset, shifting every word time of it by seconds (6 of ~160
 *   utterances at postspeech 20–30 with 10; none with 14: new speech then needs more than
 *   one read).
 * - second pass (`-fwdflat`) kept: turning it off saved ~60 ms of delay but cost 4 points WER.
 * - `-maxhmmpf 3000 -maxwpf 5` (defaults 30000 and -1): cap the active HMMs and word exits
 *   per frame. On 75 s of festival meeting talk from file: 9–12 CPU-s per minute of audio
 *   instead of 14–19, WER 8.0 % instead of 8.5 % (three runs each on a busy machine).
 *   `-maxhmmpf 2000` saved ~2 s/min more but cost 1.6 points; `-ds 2` and `-topn 2` cost
 *   WER for no clear saving.
 *
 * If the decoder dies mid-stream it is restarted and its times are shifted by the audio
 * written before the restart; after `maxFastFailures` consecutive quick deaths the session
 * reports an error and drops further audio.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../lib/log.js';
import type { LiveTranscription, TranscriptWord, Transcriber, Utterance } from './transcriber.js';

const BYTES_PER_MS = 32; // 16 kHz × 2 bytes

export interface PocketsphinxOptions {
  /** Directory holding `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir: string;
  /** End-of-utterance silence in 10 ms frames (pocketsphinx default 50; ours 30). */
  vadPostspeech?: number;
  /** Niceness of the decoder process (default 0: the caller's). */
  nice?: number;
  /** More decoder arguments (`['-beam', '1e-60']`, …). */
  extraArgs?: string[];
  bin?: string;
  ffmpegBin?: string;
  /** Give up after this many consecutive decoder deaths within `fastFailureMs` of their start (default 3). */
  maxFastFailures?: number;
  fastFailureMs?: number;
  /** Logger for `transcribeFile` (live sessions get theirs from `startLive`). */
  log?: Logger;
}

const FILLER = /^(<.*>|\[.*\]|\+\+.*\+\+)$/;
const WORD_LINE = /^(\S+) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)$/;

/**
 * Turns the decoder's `-time yes` output into utterances. Feed it stdout text as it comes;
 * `offsetMs` is added to every time (audio written before this decoder process started).
 */
export class SphinxOutputParser {
  private rest = '';
  private words: TranscriptWord[] = [];

  constructor(
    private readonly offsetMs: number,
    private readonly emit: (u: Utterance) => void,
  ) {}

  push(text: string): void {
    this.rest += text;
    let nl: number;
    while ((nl = this.rest.indexOf('\n')) >= 0) {
      const line = this.rest.slice(0, nl).trim();
      this.rest = this.rest.slice(nl + 1);
      this.line(line);
    }
  }

  /** End of output: emits a pending utterance that had no `</s>`. */
  flush(): void {
    if (this.rest.trim()) this.line(this.rest.trim());
    this.rest = '';
    this.finish();
  }

  private line(line: string): void {
    const m = WORD_LINE.exec(line);
    if (!m) return; // the hypothesis line (words only) or noise
    const token = m[1]!;
    if (token === '</s>') {
      this.finish();
      return;
    }
    if (FILLER.test(token)) return;
    const text = token.replace(/\(\d+\)$/, ''); // alternate pronunciations: `to(2)` → `to`
    const start = Number(m[2]);
    const end = Number(m[3]);
    const prob = Number(m[4]);
    this.words.push({
      text,
      startMs: Math.round(this.offsetMs + start * 1000),
      // the printed end is the start of the word's last 10 ms frame
      endMs: Math.round(this.offsetMs + end * 1000 + 10),
      confidence: Math.min(1, Math.max(0, prob)),
    });
  }

  private finish(): void {
    const words = this.words;
    this.words = [];
    if (!words.length) return;
    this.emit({
      startMs: words[0]!.startMs,
      endMs: words[words.length - 1]!.endMs,
      text: words.map((w) => w.text).join(' '),
      words,
    });
  }
}

type Decoder = ChildProcessByStdio<Writable, Readable, Readable>;

export class PocketsphinxTranscriber implements Transcriber {
  readonly name = 'pocketsphinx';

  constructor(private readonly opts: PocketsphinxOptions) {}

  /** The decoder's arguments after `-infile`. */
  decoderArgs(): string[] {
    const dir = this.opts.modelDir;
    return [
      '-time', 'yes',
      '-hmm', path.join(dir, 'en-us'),
      '-lm', path.join(dir, 'en-us.lm.bin'),
      '-dict', path.join(dir, 'cmudict-en-us.dict'),
      '-vad_postspeech', String(this.opts.vadPostspeech ?? 30),
      '-vad_startspeech', '14',
      '-maxhmmpf', '3000',
      '-maxwpf', '5',
      ...(this.opts.extraArgs ?? []),
    ];
  }

  startLive(opts: { language: string; log: Logger; env?: Record<string, string> }): LiveTranscription {
    if (!/^en\b/i.test(opts.language)) {
      opts.log.warn({ language: opts.language }, 'pocketsphinx only has an English model; transcribing as English');
    }
    return new SphinxSession(this, this.opts, opts.log, opts.env);
  }

  async transcribeFile(file: string): Promise<Utterance[]> {
    const log = this.opts.log;
    const session = new SphinxSession(this, this.opts, log);
    const utterances: Utterance[] = [];
    let failure: Error | undefined;
    session.onUtterance((u) => utterances.push(u));
    session.onError((e) => (failure = e));
    const ff = spawn(
      this.opts.ffmpegBin ?? 'ffmpeg',
      ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-vn', '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let ffErr = '';
    ff.stderr.setEncoding('utf8').on('data', (d: string) => (ffErr = (ffErr + d).slice(-2000)));
    const ffExit = new Promise<number | null>((resolve, reject) => {
      ff.once('error', reject);
      ff.once('close', (code) => resolve(code));
    });
    try {
      for await (const chunk of ff.stdout as AsyncIterable<Buffer>) {
        await session.writeAndDrain(chunk);
        if (failure) break;
      }
    } finally {
      if (ff.exitCode === null && ff.signalCode === null) ff.kill('SIGKILL');
    }
    const code = await ffExit;
    await session.end();
    if (failure) throw failure;
    if (code !== 0) throw new Error(`ffmpeg could not decode ${file}: ${ffErr.trim() || `exit ${code}`}`);
    return utterances;
  }
}

/** One live transcription: a decoder process (restarted if it dies) and the output parser. */
class SphinxSession implements LiveTranscription {
  private decoder!: Decoder;
  private exited!: Promise<void>;
  private parser!: SphinxOutputParser;
  private bytesWritten = 0;
  private startedAt = 0;
  private fastFailures = 0;
  private ending: Promise<void> | undefined;
  private failed = false;
  private readonly utteranceCbs: ((u: Utterance) => void)[] = [];
  private readonly errorCbs: ((e: Error) => void)[] = [];

  constructor(
    private readonly transcriber: PocketsphinxTranscriber,
    private readonly opts: PocketsphinxOptions,
    private readonly log: Logger | undefined,
    private readonly env: Record<string, string> = {},
  ) {
    this.spawnDecoder();
  }

  private spawnDecoder(): void {
    const offsetMs = this.bytesWritten / BYTES_PER_MS;
    const parser = new SphinxOutputParser(offsetMs, (u) => {
      for (const cb of this.utteranceCbs) cb(u);
    });
    const bin = this.opts.bin ?? 'pocketsphinx_continuous';
    const nice = Math.max(0, Math.min(19, Math.trunc(this.opts.nice ?? 0)));
    const run = nice > 0 ? `exec nice -n ${nice} "$0"` : 'exec "$0"';
    const child = spawn('sh', ['-c', `cat | ${run} -infile /dev/stdin "$@"`, bin, ...this.transcriber.decoderArgs()], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
      detached: true, // own process group: sh, cat and the decoder are killed together
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => parser.push(d));
    child.stdin.on('error', () => undefined); // EPIPE when it died; handled on exit
    this.decoder = child;
    this.parser = parser;
    this.startedAt = Date.now();
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        stderr += `\n${err.message}`;
      });
      child.once('close', (code, signal) => {
        parser.flush();
        resolve();
        if (this.ending || this.failed) return;
        const lived = Date.now() - this.startedAt;
        const tail = stderr.split('\n').filter((l) => !l.startsWith('INFO:')).slice(-5).join('\n').trim();
        this.log?.warn({ code, signal, livedMs: lived, stderr: tail }, 'pocketsphinx died');
        this.fastFailures = lived < (this.opts.fastFailureMs ?? 10_000) ? this.fastFailures + 1 : 0;
        if (this.fastFailures >= (this.opts.maxFastFailures ?? 3)) {
          this.failed = true;
          const err = new Error(`pocketsphinx keeps dying (${signal ?? `exit ${code}`}): ${tail}`);
          for (const cb of this.errorCbs) cb(err);
          return;
        }
        this.spawnDecoder();
      });
    });
  }

  write(pcm: Buffer): void {
    if (this.ending || this.failed || !pcm.length) return;
    this.bytesWritten += pcm.length;
    this.decoder.stdin.write(pcm);
  }

  /** `write` that waits while the decoder is behind (file transcription). */
  async writeAndDrain(pcm: Buffer): Promise<void> {
    if (this.ending || this.failed || !pcm.length) return;
    this.bytesWritten += pcm.length;
    const d = this.decoder;
    if (!d.stdin.write(pcm)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          d.stdin.off('drain', done);
          d.off('close', done);
          resolve();
        };
        d.stdin.once('drain', done);
        d.once('close', done);
      });
    }
  }

  onUtterance(cb: (u: Utterance) => void): void {
    this.utteranceCbs.push(cb);
  }

  onError(cb: (e: Error) => void): void {
    this.errorCbs.push(cb);
  }

  end(): Promise<void> {
    this.ending ??= (async () => {
      const d = this.decoder;
      d.stdin.end();
      // The decoder works through what is queued and exits on EOF; don't wait forever.
      const timer = setTimeout(() => {
        this.log?.warn('pocketsphinx did not finish after its input ended; killing it');
        killGroup(d);
      }, 30_000 + (d.stdin.writableLength / BYTES_PER_MS) * 2);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.ending;
  }
}

function killGroup(child: Decoder): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
