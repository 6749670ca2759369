/**
 * Crash recovery end to end, with real bots in the local Meet replica and a participant who
 * speaks festival sentences over real WebRTC: a crash of the bot's browser, a worker stopped
 * gracefully, a worker killed hard (in its own process, its local spool lost with it), and a
 * database outage. In each case nothing recorded and nothing accepted may be lost: the bot
 * comes back (or carries on), the final recording covers what was said before and after, and
 * the transcript's times line up with that recording.
 *
 * Prints `[measure]` lines: the audio missing around each crash and how long the bot needed
 * to be back in the call.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../lib/db/embedded.js';
import { openDatabase } from '../../lib/db/index.js';
import { silentLogger } from '../../lib/log.js';
import { projectPath } from '../../lib/paths.js';
import { joinedDurationMs } from '../../recordings/finalize.js';
import type { TestDatabase } from '../harness/db.js';
import { sendBot, sharedState, startTestNotula, waitForBot, type TestNotula } from '../harness/notula.js';
import { BENCHMARK_SCRIPT, MEETING_SCRIPT, synthesizeSpeech, type SpeechFile } from '../harness/speech.js';
import { startMeetReplica, type MeetReplica } from '../replicas/meet/server.js';
import { launchParticipants, type Participant, type ParticipantPool } from '../replicas/participant.js';

const execFileP = promisify(execFile);
const BOT = 'Notula Notetaker';
const TSX = projectPath('node_modules', '.bin', 'tsx');
const MAIN = projectPath('main.ts');

let replica: MeetReplica;
let people: ParticipantPool;
/** Sentences pocketsphinx gets right from the call (MEETING_SCRIPT), and fillers spoken through crashes. */
let lines: { text: string; wav: SpeechFile }[];
let fillers: { text: string; wav: SpeechFile }[];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  replica = await startMeetReplica();
  people = await launchParticipants();
  lines = await Promise.all(MEETING_SCRIPT.map(async (text) => ({ text, wav: await synthesizeSpeech(text) })));
  fillers = await Promise.all(BENCHMARK_SCRIPT.slice(0, 4).map(async ({ text }) => ({ text, wav: await synthesizeSpeech(text) })));
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch((err) => console.error('cleanup failed', err));
  await people?.close();
  await replica?.close();
});

// ---- helpers -------------------------------------------------------------------------

type Bot = any;
type Segment = { start_ms: number; end_ms: number; text: string; speaker: string | null; words: { text: string; start_ms: number; end_ms: number }[] };

/** A transcript as a failure message shows it: each segment's time, speaker and text. */
const shown = (segs: Segment[]) => segs.map((s) => `${s.start_ms}ms ${s.speaker ?? '?'}: ${s.text}`).join(' | ');
const codes = (b: Bot): string[] => b.status_history.map((h: { code: string }) => h.code);
/** Wall-clock time (ms) of the n-th (0-based) history event with this code. */
function eventAt(b: Bot, code: string, n = 0): number {
  const e = b.status_history.filter((h: { code: string }) => h.code === code)[n];
  if (!e) throw new Error(`no ${code} #${n} in ${JSON.stringify(codes(b))}`);
  return Date.parse(e.at);
}

/** Admits the bot each time it knocks, once its status shows the lobby (so the history has in_waiting_room). */
function autoAdmit(t: () => TestNotula, code: string, botId: () => string | undefined): { stop(): void } {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      try {
        await replica.waitForKnock(code, 2000);
        const id = botId();
        if (!id) continue;
        await waitForBot(t(), id, (b) => b.status.code === 'in_waiting_room', 15_000);
        replica.admit(code, BOT);
      } catch {
        await sleep(200);
      }
    }
  })();
  return { stop: () => void (stopped = true) };
}

/** Speaks fillers back to back until `until()` holds after a line; returns what was spoken when. */
function keepTalking(p: Participant, until: () => boolean): Promise<{ text: string; startedAt: number; endedAt: number }[]> {
  return (async () => {
    const spoken: { text: string; startedAt: number; endedAt: number }[] = [];
    for (let i = 0; !until(); i++) {
      const f = fillers[i % fillers.length]!;
      spoken.push({ text: f.text, ...(await p.speak(f.wav.path)) });
    }
    return spoken;
  })();
}

async function transcript(t: TestNotula, botId: string): Promise<Segment[]> {
  const res = await t.api('GET', `/v1/bots/${botId}/transcript`);
  expect(res.status).toBe(200);
  return res.body.segments;
}

async function waitForSegments(t: TestNotula, botId: string, n: number, timeoutMs = 15_000): Promise<Segment[]> {
  let segs: Segment[] = [];
  await expect.poll(async () => (segs = await transcript(t, botId)).length, { timeout: timeoutMs, interval: 250 }).toBeGreaterThanOrEqual(n);
  return segs;
}

async function downloadRecording(t: TestNotula, botId: string, dir: string): Promise<string> {
  const res = await fetch(`${t.url}/v1/bots/${botId}/recording`, { headers: { authorization: `Bearer ${t.key}` } });
  expect(res.status).toBe(200);
  const file = path.join(dir, `${botId}.ogg`);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

async function ffprobeMs(file: string): Promise<number> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Math.round(Number.parseFloat(stdout) * 1000);
}

/** The recording decoded to 16 kHz mono samples. */
async function decode(file: string): Promise<Int16Array> {
  const { stdout } = await execFileP('ffmpeg', ['-v', 'error', '-i', file, '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 256 << 20,
  });
  return new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
}

/** RMS level of [startMs, endMs) in dBFS. */
function levelDb(pcm: Int16Array, startMs: number, endMs: number): number {
  const a = Math.max(0, Math.floor(startMs * 16));
  const b = Math.min(pcm.length, Math.floor(endMs * 16));
  if (b <= a) return -100;
  let sum = 0;
  for (let i = a; i < b; i++) sum += pcm[i]! * pcm[i]!;
  const rms = Math.sqrt(sum / (b - a));
  return rms > 0 ? 20 * Math.log10(rms / 32768) : -100;
}

const SILENT_DB = -55;
/** Stretches of at least `minMs` whose 50 ms windows are all below SILENT_DB. */
function silences(pcm: Int16Array, minMs: number): { startMs: number; endMs: number }[] {
  const out: { startMs: number; endMs: number }[] = [];
  let from: number | null = null;
  const totalMs = pcm.length / 16;
  for (let t = 0; t < totalMs; t += 50) {
    const quiet = levelDb(pcm, t, t + 50) < SILENT_DB;
    if (quiet && from === null) from = t;
    if (!quiet && from !== null) {
      if (t - from >= minMs) out.push({ startMs: from, endMs: t });
      from = null;
    }
  }
  if (from !== null && totalMs - from >= minMs) out.push({ startMs: from, endMs: totalMs });
  return out;
}

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 2);

/**
 * Where a spoken line is in the transcript: the share of its words heard (in one segment, or
 * two in a row when the engine split the sentence) and the segment holding most of them.
 */
function bestMatch(segs: Segment[], line: string): { seg: Segment | undefined; share: number } {
  const want = norm(line);
  const hits = (s: Segment) => {
    const heard = new Set(norm(s.text));
    return want.filter((w) => heard.has(w)).length;
  };
  let best: { seg: Segment | undefined; share: number } = { seg: undefined, share: 0 };
  for (let i = 0; i < segs.length; i++) {
    for (const span of [1, 2]) {
      const window = segs.slice(i, i + span);
      const heard = new Set(norm(window.map((s) => s.text).join(' ')));
      const share = want.filter((w) => heard.has(w)).length / want.length;
      if (share > best.share + 1e-9) best = { seg: window.reduce((a, b) => (hits(b) > hits(a) ? b : a)), share };
    }
  }
  return best;
}

/**
 * Times that line up: none negative, none past the end of the recording, in order without
 * overlap across parts, words inside their segment, and sound in the recording where the
 * transcript says something was said.
 */
function expectConsistentTimes(segs: Segment[], pcm: Int16Array, durationMs: number) {
  let prevEnd = 0;
  for (const s of segs) {
    expect(s.start_ms).toBeGreaterThanOrEqual(0);
    expect(s.end_ms).toBeGreaterThan(s.start_ms);
    expect(s.start_ms, `segment "${s.text}" starts before the previous one ended`).toBeGreaterThanOrEqual(prevEnd);
    expect(s.end_ms).toBeLessThanOrEqual(durationMs + 100);
    for (const w of s.words) {
      expect(w.start_ms).toBeGreaterThanOrEqual(s.start_ms);
      expect(w.end_ms).toBeLessThanOrEqual(s.end_ms);
    }
    expect(levelDb(pcm, s.start_ms, s.end_ms), `no sound in the recording at "${s.text}" (${s.start_ms}–${s.end_ms} ms)`).toBeGreaterThan(-45);
    prevEnd = s.end_ms;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function createBot(t: TestNotula, code: string, extra: Record<string, unknown> = {}): Promise<string> {
  return sendBot(t, { meeting_url: replica.meetingUrl(code), bot_name: BOT, automatic_leave: { everyone_left_timeout_s: 3 }, ...extra });
}

/** Pids of processes whose environment holds `entry` and whose command line matches `cmd`. */
async function pidsWith(entry: string, cmd: (argv: string[]) => boolean): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      if (!cmd(argv)) continue;
      const env = (await readFile(`/proc/${name}/environ`, 'utf8')).split('\0');
      if (env.includes(entry)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Process group members still alive (the worker runs in its own group). */
async function groupMembers(pgid: number): Promise<{ pid: number; comm: string }[]> {
  const out: { pid: number; comm: string }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) out.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

interface Worker {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `tsx main.ts --role bot` in its own process group, so a hard kill can take every process of it. */
function startBotWorker(env: Record<string, string>): Worker {
  const child = spawn(TSX, [MAIN, '--role', 'bot'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-200_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const w = { child, output: () => out, exited };
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone
    }
  });
  return w;
}

async function waitForOutput(w: Worker, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(w.output())) return;
    if (w.child.exitCode !== null) throw new Error(`worker exited ${w.child.exitCode} before ${pattern}:\n${w.output().slice(-5000)}`);
    await sleep(100);
  }
  throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${w.output().slice(-5000)}`);
}

/**
 * An API and scheduler in this process, and one bot worker in its own, over a fresh database
 * and DATA_DIR, with heartbeats every second and a bot stale after 4 s.
 */
async function sweptWorkerSetup() {
  const { database, dataDir } = await sharedState(cleanups);
  const fast = { BOT_HEARTBEAT_INTERVAL_S: '1', BOT_HEARTBEAT_STALE_S: '4', BOT_SWEEP_INTERVAL_S: '1' };
  const t = await startTestNotula({ BOT_HOST_OVERRIDES: replica.hostOverride, ...fast }, { database, dataDir, roles: ['api', 'scheduler'] });
  cleanups.push(() => t.stop());
  const workerEnv = {
    ...fast,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    BOT_HOST_OVERRIDES: replica.hostOverride,
    BOT_POLL_INTERVAL_MS: '500',
  };
  const w1 = startBotWorker(workerEnv);
  await waitForOutput(w1, /Notula started/);
  return { database, dataDir, t, workerEnv, w1 };
}

const measures: string[] = [];
function measure(line: string) {
  measures.push(line);
  console.log(`[measure] ${line}`);
}

// ---- the scenarios ---------------------------------------------------------------------

describe('crash recovery of a Meet bot', () => {
  it('rejoins after its browser is killed mid-call and keeps one continuous recording', async () => {
    const t = await startTestNotula({ BOT_HOST_OVERRIDES: replica.hostOverride });
    cleanups.push(() => t.stop());
    const code = 'brw-crsh-one';
    replica.createMeeting(code, { lobby: true });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');
    let botId: string | undefined;
    const admitter = autoAdmit(() => t, code, () => botId);
    try {
      botId = await createBot(t, code);
      const recording = await waitForBot(t, botId, (b) => b.status.code === 'in_call_recording', 40_000);
      const recStart = eventAt(recording, 'in_call_recording');
      await ada.waitForPeers(1, 10_000);
      const before = { text: lines[0]!.text, ...(await ada.speak(lines[0]!.wav.path)) };
      await waitForSegments(t, botId, 1);

      const chromium = await pidsWith(`PULSE_SINK=notula_${botId}`, (argv) => ['chromium', 'chrome'].includes(path.basename(argv[0] ?? '')) && !argv.some((a) => a.startsWith('--type=')));
      expect(chromium).toHaveLength(1);
      // Talk through the crash: what the recording misses is then exactly the time the bot was away.
      let back = false;
      const talking = keepTalking(ada, () => back);
      await sleep(1500);
      const killedAt = Date.now();
      process.kill(chromium[0]!, 'SIGKILL');
      const rejoined = await waitForBot(t, botId, (b) => codes(b).filter((c) => c === 'in_call_recording').length === 2, 45_000);
      await ada.waitForPeers(1, 15_000);
      const peersAt = Date.now();
      back = true;
      const during = await talking;
      const after = [];
      for (const l of lines.slice(1)) {
        await sleep(800); // a pause, so the engine does not run the sentence into the one before
        after.push({ text: l.text, ...(await ada.speak(l.wav.path)) });
      }
      const leftAt = Date.now();
      await ada.leave();
      const done = await waitForBot(t, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);

      // One rejoin: back to joining_call and the lobby, then straight to recording — the capture never stopped.
      expect(codes(done)).toEqual([
        'scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording',
        'joining_call', 'in_waiting_room', 'in_call_recording', 'call_ended', 'done',
      ]);
      const events = done.status_history;
      expect(events[5].message).toMatch(/rejoining/);
      expect(events[7].message).toMatch(/recording continues/);
      expect(events.find((e: { code: string }) => e.code === 'call_ended').sub_code).toBe('everyone_left');
      const backAt = eventAt(rejoined, 'in_call_recording', 1);
      measure(`browser crash: back in the call (in_call_recording) ${backAt - killedAt} ms after the kill, WebRTC audio flowing again after ${peersAt - killedAt} ms`);

      // One continuous recording on the wall clock, from the first admission to the leave.
      expect(done.recording).toMatchObject({ status: 'ready' });
      const file = await downloadRecording(t, botId, t.dataDir);
      const durationMs = await ffprobeMs(file);
      expect(durationMs).toBeGreaterThan(leftAt - recStart - 500);
      expect(durationMs).toBeLessThan(leftAt - recStart + 8000);
      const pcm = await decode(file);
      const killPos = killedAt - recStart;
      // Speech was playing through the crash: the silence around the kill is the audio lost.
      const gap = silences(pcm, 700).find((s) => s.startMs <= killPos + 700 && s.endMs >= killPos);
      expect(gap, `no silence around the kill at ${killPos} ms`).toBeDefined();
      measure(`browser crash: ${Math.round(gap!.endMs - gap!.startMs)} ms of silence in the recording around the kill (${Math.round(gap!.startMs - killPos)} ms…+${Math.round(gap!.endMs - killPos)} ms), speech playing throughout`);
      // Nothing can be recorded before the participants' audio reaches the new browser again.
      expect(gap!.endMs - gap!.startMs).toBeLessThan(Math.max(backAt, peersAt) - killedAt + 4000);

      const segs = await transcript(t, botId);
      expectConsistentTimes(segs, pcm, durationMs);
      for (const l of [before, ...after]) {
        const m = bestMatch(segs, l.text);
        expect(m.share, `"${l.text}" not in the transcript: ${shown(segs)}`).toBeGreaterThanOrEqual(0.6);
        // On the recording's clock, which is the wall clock since the first admission.
        expect(Math.abs(m.seg!.start_ms - (l.startedAt - recStart)), `"${l.text}" at ${l.startedAt - recStart} ms: ${shown(segs)}`).toBeLessThan(2000);
      }
      expect(during.length).toBeGreaterThan(0);
    } finally {
      admitter.stop();
      await ada.leave();
    }
  }, 150_000);

  it('is taken over by another Notula over the same database and DATA_DIR when its worker stops gracefully', async () => {
    const { database, dataDir } = await sharedState(cleanups);
    const env = { BOT_HOST_OVERRIDES: replica.hostOverride };
    let t = await startTestNotula(env, { database, dataDir });
    const first = t;
    cleanups.push(() => first.stop());
    const code = 'grc-stop-two';
    replica.createMeeting(code, { lobby: true });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');
    let botId: string | undefined;
    const admitter = autoAdmit(() => t, code, () => botId);
    try {
      botId = await createBot(t, code);
      const rec1 = await waitForBot(t, botId, (b) => b.status.code === 'in_call_recording', 40_000);
      const recStart1 = eventAt(rec1, 'in_call_recording');
      await ada.waitForPeers(1, 10_000);
      const before = { text: lines[0]!.text, ...(await ada.speak(lines[0]!.wav.path)) };
      await waitForSegments(t, botId, 1);

      const stoppedAt = Date.now();
      await first.stop();
      const stopMs = Date.now() - stoppedAt;
      const second = await startTestNotula(env, { database, dataDir, key: first.key });
      cleanups.push(() => second.stop());
      t = second;
      const rec2 = await waitForBot(t, botId, (b) => codes(b).filter((c) => c === 'in_call_recording').length === 2, 60_000);
      const recStart2 = eventAt(rec2, 'in_call_recording', 1);
      measure(`graceful stop: stop() took ${stopMs} ms; the bot was recording again ${recStart2 - stoppedAt} ms after stop() began (pg-boss's 5–10 s retry delay included)`);
      await ada.waitForPeers(1, 15_000);
      const after = { text: lines[2]!.text, ...(await ada.speak(lines[2]!.wav.path)) };
      const leftAt = Date.now();
      await ada.leave();
      const done = await waitForBot(t, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);

      expect(codes(done)).toEqual([
        'scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording',
        'joining_call', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done',
      ]);
      expect(done.status_history[5].message).toMatch(/shutting down/);
      expect(done.status_history[6].message).toMatch(/attempt 2/);

      // Both parts, back to back: part 1 until the stop, part 2 from the rejoin.
      const file = await downloadRecording(t, botId, dataDir);
      const durationMs = await ffprobeMs(file);
      const part1Ms = stoppedAt - recStart1;
      const part2Ms = leftAt - recStart2;
      expect(durationMs).toBeGreaterThan(part1Ms + part2Ms - 1000);
      expect(durationMs).toBeLessThan(part1Ms + part2Ms + 12_000);
      const pcm = await decode(file);
      const segs = await transcript(t, botId);
      expectConsistentTimes(segs, pcm, durationMs);
      const b = bestMatch(segs, before.text);
      const a = bestMatch(segs, after.text);
      expect(b.share, shown(segs)).toBeGreaterThanOrEqual(0.6);
      expect(a.share, shown(segs)).toBeGreaterThanOrEqual(0.6);
      expect(Math.abs(b.seg!.start_ms - (before.startedAt - recStart1))).toBeLessThan(2000);
      // Part 2 starts where part 1 ends: its times are offset by all of part 1.
      expect(a.seg!.start_ms).toBeGreaterThan(part1Ms + (after.startedAt - recStart2) - 2000);
      // Nothing left behind once the recording is final: neither the spool nor the parts in the store.
      await expect.poll(() => existsSync(path.join(dataDir, 'spool', botId!))).toBe(false);
      await expect.poll(() => existsSync(path.join(dataDir, 'recordings', 'bots', botId!, 'parts'))).toBe(false);
    } finally {
      admitter.stop();
      await ada.leave();
    }
  }, 180_000);

  it('survives a bot worker process killed hard: the sweeper fails its job, another worker rejoins, nothing recorded is lost', async () => {
    const { database, dataDir, t, workerEnv, w1 } = await sweptWorkerSetup();
    const code = 'krd-kill-thr';
    replica.createMeeting(code, { lobby: true });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');
    let botId: string | undefined;
    const admitter = autoAdmit(() => t, code, () => botId);
    try {
      botId = await createBot(t, code);
      const rec1 = await waitForBot(t, botId, (b) => b.status.code === 'in_call_recording', 40_000);
      const recStart1 = eventAt(rec1, 'in_call_recording');
      await ada.waitForPeers(1, 10_000);
      const before = { text: lines[0]!.text, ...(await ada.speak(lines[0]!.wav.path)) };
      await waitForSegments(t, botId, 1);
      // Wait until the segments holding the sentence are closed and shipped to the store.
      const shippedDir = path.join(dataDir, 'recordings', 'bots', botId, 'parts', 'part-0001');
      const shipped = async () => (await readdir(shippedDir).catch(() => [] as string[])).filter((f) => /^seg-\d+\.ogg$/.test(f)).sort();
      const needed = Math.ceil((before.endedAt - recStart1 + 800) / 5000);
      const deadline = Date.now() + 10_000;
      while ((await shipped()).length < needed && Date.now() < deadline) await sleep(200);

      // The worker's Node process dies (OOM killer, kill -9); the pod/machine takes the rest with it.
      const shippedAtKill = (await shipped()).map((f) => path.join(shippedDir, f));
      const node = (await groupMembers(w1.child.pid!)).filter((p) => p.comm === 'node');
      const killedAt = Date.now();
      for (const p of node) process.kill(p.pid, 'SIGKILL');
      await sleep(1000);
      const survivors = await groupMembers(w1.child.pid!);
      process.kill(-w1.child.pid!, 'SIGKILL');
      console.log(`worker killed; 1 s later still alive in its group: ${survivors.map((p) => p.comm).join(', ') || 'nothing'}`);
      // Its local disk went with it.
      await rm(path.join(dataDir, 'spool'), { recursive: true, force: true });
      const shippedMs = shippedAtKill.length ? await joinedDurationMs(shippedAtKill) : 0;
      expect(shippedAtKill.length).toBeGreaterThanOrEqual(needed);

      const w2 = startBotWorker(workerEnv);
      const rec2 = await waitForBot(t, botId, (b) => codes(b).filter((c) => c === 'in_call_recording').length === 2, 90_000);
      const recStart2 = eventAt(rec2, 'in_call_recording', 1);
      const sweptAt = eventAt(rec2, 'joining_call', 1);
      measure(`hard kill: the sweeper failed the job ${sweptAt - killedAt} ms after the kill (stale after 4 s); recording again after ${recStart2 - killedAt} ms`);
      await ada.waitForPeers(1, 15_000);
      const after = { text: lines[2]!.text, ...(await ada.speak(lines[2]!.wav.path)) };
      const leftAt = Date.now();
      await ada.leave();
      const done = await waitForBot(t, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);

      expect(codes(done)).toEqual([
        'scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording',
        'joining_call', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done',
      ]);
      expect(done.status_history[5].message).toMatch(/heartbeat/);
      expect(done.status_history[6].message).toMatch(/attempt 2/);
      const job = await database.pool.query('select state, retry_count from pgboss.job where id = (select job_id::uuid from bots where id = $1)', [botId]);
      expect(job.rows[0]).toMatchObject({ state: 'completed', retry_count: 1 });

      // Every segment the dead worker had shipped is in the final file, followed by part 2.
      const file = await downloadRecording(t, botId, dataDir);
      const durationMs = await ffprobeMs(file);
      const part2Ms = leftAt - recStart2;
      measure(`hard kill: ${shippedAtKill.length} shipped segments (${shippedMs} ms) kept; lost with the worker's disk: the ${killedAt - recStart1 - shippedMs} ms of the segment open at the kill (at most 5 s)`);
      expect(durationMs).toBeGreaterThan(shippedMs + part2Ms - 1000);
      expect(durationMs).toBeLessThan(killedAt - recStart1 + part2Ms + 12_000);
      const pcm = await decode(file);
      const segs = await transcript(t, botId);
      expectConsistentTimes(segs, pcm, durationMs);
      const b = bestMatch(segs, before.text);
      const a = bestMatch(segs, after.text);
      expect(b.share, shown(segs)).toBeGreaterThanOrEqual(0.6);
      expect(a.share, shown(segs)).toBeGreaterThanOrEqual(0.6);
      expect(Math.abs(b.seg!.start_ms - (before.startedAt - recStart1))).toBeLessThan(2000);
      expect(a.seg!.start_ms).toBeGreaterThan(shippedMs + (after.startedAt - recStart2) - 2000);

      w2.child.kill('SIGTERM');
      expect(await w2.exited).toBe(0);
    } finally {
      admitter.stop();
      await ada.leave();
    }
  }, 200_000);

  it('steps back when a worker the sweeper gave up on was alive after all: one bot in the call, no status from the old attempt', async () => {
    const { t, workerEnv, w1 } = await sweptWorkerSetup();
    const code = 'krd-frzn-bck';
    replica.createMeeting(code, { lobby: true });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');
    let botId: string | undefined;
    const admitter = autoAdmit(() => t, code, () => botId);
    const botsInCall = () => replica.participants(code).filter((m) => m.name === BOT).length;
    try {
      botId = await createBot(t, code);
      await waitForBot(t, botId, (b) => b.status.code === 'in_call_recording', 40_000);
      await ada.waitForPeers(1, 10_000);
      // The worker's Node process freezes (a long GC pause, a stopped container, a partition):
      // no heartbeats, but its browser stays in the call.
      const node = (await groupMembers(w1.child.pid!)).filter((p) => p.comm === 'node');
      for (const p of node) process.kill(p.pid, 'SIGSTOP');
      const frozenAt = Date.now();
      const w2 = startBotWorker(workerEnv);
      const taken = await waitForBot(t, botId, (b) => codes(b).filter((c) => c === 'in_call_recording').length === 2, 90_000);
      expect(botsInCall()).toBe(2); // the frozen worker's browser is still there
      const historyBefore = codes(taken);

      for (const p of node) process.kill(p.pid, 'SIGCONT');
      const wokeAt = Date.now();
      await waitForOutput(w1, /a later attempt of this bot has started on another worker; this one steps back/, 10_000);
      const deadline = Date.now() + 15_000;
      while (botsInCall() > 1 && Date.now() < deadline) await sleep(100);
      measure(`frozen worker: frozen ${wokeAt - frozenAt} ms; it stepped back and its browser left the call ${Date.now() - wokeAt} ms after waking`);
      expect(botsInCall()).toBe(1);
      expect(w1.child.exitCode).toBeNull(); // alive, just no longer running the bot

      const after = { text: lines[1]!.text, ...(await ada.speak(lines[1]!.wav.path)) };
      await waitForSegments(t, botId, 1);
      await ada.leave();
      const done = await waitForBot(t, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);
      // Everything after the takeover came from the new attempt: its own call_ended, then done.
      expect(codes(done)).toEqual([...historyBefore, 'call_ended', 'done']);
      const segs = await transcript(t, botId);
      expect(bestMatch(segs, after.text).share, shown(segs)).toBeGreaterThanOrEqual(0.6);
      w2.child.kill('SIGTERM');
      expect(await w2.exited).toBe(0);
    } finally {
      admitter.stop();
      await ada.leave();
    }
  }, 200_000);

  it('keeps recording through a database outage, stores what was said meanwhile afterwards, and its statuses catch up', async () => {
    const pgDir = await mkdtemp(path.join(tmpdir(), 'notula-outage-pg-'));
    const port = await freePort();
    let pg: EmbeddedDatabase | undefined = await startEmbeddedPostgres({ dataDir: pgDir, port, log: silentLogger });
    const opened = openDatabase(pg.url, { max: 2 });
    const database: TestDatabase = { ...opened, name: 'notula', drop: () => opened.close() };
    cleanups.push(async () => {
      await database.drop();
      await pg?.stop();
      await rm(pgDir, { recursive: true, force: true });
    });
    // Heartbeats stale after 4 s: the outage outlasts that, and the scheduler must still not take the bot over.
    const fast = { BOT_HEARTBEAT_INTERVAL_S: '1', BOT_HEARTBEAT_STALE_S: '4', BOT_SWEEP_INTERVAL_S: '1' };
    const t = await startTestNotula({ BOT_HOST_OVERRIDES: replica.hostOverride, ...fast }, { database });
    cleanups.push(() => t.stop());
    const code = 'dbo-down-fou';
    replica.createMeeting(code, { lobby: true });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');
    let botId: string | undefined;
    const admitter = autoAdmit(() => t, code, () => botId);
    try {
      botId = await createBot(t, code);
      const rec = await waitForBot(t, botId, (b) => b.status.code === 'in_call_recording', 40_000);
      admitter.stop();
      const recStart = eventAt(rec, 'in_call_recording');
      await ada.waitForPeers(1, 10_000);
      const before = { text: lines[0]!.text, ...(await ada.speak(lines[0]!.wav.path)) };
      await waitForSegments(t, botId, 1);

      const downAt = Date.now();
      await pg.stop();
      pg = undefined;
      // Said while the database is away; then the participant leaves, and so does the bot.
      const during = { text: lines[1]!.text, ...(await ada.speak(lines[1]!.wav.path)) };
      const leftAt = Date.now();
      await ada.leave();
      const finalFile = path.join(t.dataDir, 'recordings', 'bots', botId, 'recording.ogg');
      const deadline = Date.now() + 15_000;
      while (!existsSync(finalFile) && Date.now() < deadline) await sleep(200);
      const finalizedDuringOutage = existsSync(finalFile);
      await sleep(Math.max(0, downAt + 10_000 - Date.now()));
      pg = await startEmbeddedPostgres({ dataDir: pgDir, port, log: silentLogger });
      const upAt = Date.now();
      const done = await waitForBot(t, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 30_000);
      measure(`database outage: ${upAt - downAt} ms; the bot left and finalized meanwhile: ${finalizedDuringOutage}; its statuses were written within ${Date.now() - upAt} ms of the database coming back`);
      // Nobody took the bot over after the outage: one attempt, its job completed.
      await expect.poll(async () => (await database.pool.query('select state, retry_count from pgboss.job where id = (select job_id::uuid from bots where id = $1)', [botId])).rows[0], { timeout: 10_000 }).toMatchObject({ state: 'completed', retry_count: 0 });

      expect(codes(done)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done']);
      // The end happened during the outage and carries that time, written once the database was back.
      const endedAt = eventAt(done, 'call_ended');
      expect(endedAt).toBeGreaterThan(leftAt);
      expect(endedAt).toBeLessThan(upAt);
      expect(done.status_history.find((e: { code: string }) => e.code === 'call_ended').sub_code).toBe('everyone_left');
      expect(finalizedDuringOutage).toBe(true);

      const segs = await transcript(t, botId);
      const d = bestMatch(segs, during.text);
      expect(d.share, shown(segs)).toBeGreaterThanOrEqual(0.6);
      const stored = await database.pool.query('select start_ms, created_at from transcript_segments where bot_id = $1 and start_ms = $2', [botId, d.seg!.start_ms]);
      expect(stored.rows[0].created_at.getTime()).toBeGreaterThanOrEqual(upAt - 1000);

      // The whole recording, and no longer than the call: capture stopped when the bot left, not when the database returned.
      const file = await downloadRecording(t, botId, t.dataDir);
      const durationMs = await ffprobeMs(file);
      expect(durationMs).toBeGreaterThan(leftAt - recStart);
      expect(durationMs).toBeLessThan(leftAt - recStart + 3000 + 3000);
      const pcm = await decode(file);
      expectConsistentTimes(segs, pcm, durationMs);
      for (const l of [before, during]) {
        const m = bestMatch(segs, l.text);
        expect(m.share, shown(segs)).toBeGreaterThanOrEqual(0.6);
        expect(Math.abs(m.seg!.start_ms - (l.startedAt - recStart)), `"${l.text}" at ${l.startedAt - recStart} ms: ${shown(segs)}`).toBeLessThan(2000);
      }
    } finally {
      admitter.stop();
      await ada.leave();
    }
  }, 150_000);
});
