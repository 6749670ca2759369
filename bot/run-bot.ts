/**
 * One bot, from launch to `done`: allocate its audio sink, open Chromium, walk the
 * platform's join flow, watch the page (lobby, admission, participants, end screens),
 * record and transcribe while in the call, leave when a rule says so, and finalize the
 * recording. Statuses, automatic leave and crash recovery live here; platform knowledge
 * lives in the adapters.
 */
import path from 'node:path';
import type { Config } from '../lib/config.js';
import type { Db } from '../lib/db/index.js';
import { CHANNELS, type Notifications } from '../lib/db/notifications.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../lib/log.js';
import type { Metrics } from '../lib/metrics.js';
import type { MeetingRef, Platform } from '../lib/meeting-url.js';
import { openRecordingPart, type RecordingPart } from '../recordings/parts.js';
import { finalizeRecording } from '../recordings/spool.js';
import type { RecordingStore } from '../recordings/store.js';
import type { PostMeetingQueue } from '../scheduler/post-meeting/post-meeting-queue.js';
import { allocateAudioSink, type AudioSink, type PulseServer } from './audio/pulse.js';
import { BotRecords, type BotRow, type SegmentInput } from './bot-records.js';
import type { BrowserLauncher, BrowserSession } from './browser.js';
import { startCapture, type AudioCapture } from './capture/ffmpeg-capture.js';
import { applyHostOverride } from './host-overrides.js';
import type { Observation, PlatformAdapter, PlatformContext } from './platforms/adapter.js';
import { AutomaticLeaveSchema, RecordingNoticeSchema, recordingNoticeText, type AutomaticLeave, type CloudProvider } from './settings.js';
import { attributeWords, SpeakerTimeline, splitBySpeaker, type SpeakerTurn } from './speakers/speaker-timeline.js';
import { endStatusFor, isTerminal, type StatusCode, type SubCode } from './status.js';
import type { FallbackEvent, LiveTranscription, Transcriber, Utterance } from './transcribe/transcriber.js';

export interface BotRuntime {
  config: Config;
  db: Db;
  log: Logger;
  store: RecordingStore;
  /** The transcriber for a bot's settings (bot/transcribe/providers.ts: local, or a cloud one falling back to local). */
  transcriberFor(bot: BotRow): Transcriber;
  /** Queues the job that redoes a bot's transcript from its recording with a cloud provider (after a mid-meeting fallback). */
  scheduleTranscriptRedo?(botId: string, provider: CloudProvider): Promise<void>;
  pulse: PulseServer;
  /** X display shared by headful bots. */
  display: string | undefined;
  browsers: BrowserLauncher;
  adapters: Partial<Record<Platform, PlatformAdapter>>;
  notifications: Notifications;
  workerId: string;
  /** Where recording segments are written while a bot records (DATA_DIR/spool). */
  spoolDir: string;
  metrics?: Metrics;
  /** Where a finished meeting's analytics and summary are queued (sent with the move to `done`). */
  postMeeting?: PostMeetingQueue;
}

/** `retry`: the job should run again (shutdown, lost worker); otherwise the bot is finished. */
export interface BotRunResult {
  retry: boolean;
  reason: string;
}

interface End {
  subCode: SubCode;
  message: string;
}

/** Audio below this level counts as silence for silence_timeout. */
const SILENCE_DBFS = -50;
const TICK_MS = 400;
const LEAVE_POLL_MS = 2000;
/** How long the page may show neither the call nor an end screen before the bot rejoins. */
const LOST_CALL_MS = 15_000;
const MAX_BROWSER_RELAUNCHES = 2;

export async function runBot(rt: BotRuntime, botId: string, shutdown: AbortSignal): Promise<BotRunResult> {
  const log = rt.log.child({ botId });
  const postMeeting = rt.postMeeting;
  const records = new BotRecords(rt.db, botId, log, postMeeting ? { onDone: (sql) => postMeeting.enqueue(sql, botId, 'done').then(() => undefined) } : {});
  const row = await records.load();
  if (!row) return { retry: false, reason: 'bot no longer exists' };
  if (isTerminal(row.status as StatusCode)) return { retry: false, reason: `bot already ${row.status}` };
  const run = new BotRun(rt, row, records, log, shutdown);
  // The worker before died after the call ended, while finalizing: only that is left to do.
  if (row.status === 'call_ended') return run.finishEnded();
  return run.execute();
}

class BotRun {
  readonly meeting: MeetingRef;
  readonly limits: AutomaticLeave;
  readonly adapter: PlatformAdapter | undefined;
  phase: 'joining' | 'waiting_room' | 'in_call' = 'joining';
  session: BrowserSession | undefined;
  sink: AudioSink | undefined;
  capture: AudioCapture | undefined;
  part: RecordingPart | undefined;
  live: LiveTranscription | undefined;
  liveFailed = false;
  leaveRequested = false;
  captureError: Error | undefined;
  relaunches = 0;
  /** Controls the adapter's waits; aborted when the bot must stop. */
  stop = new AbortController();
  timers: NodeJS.Timeout[] = [];
  unsubscribe: (() => void) | undefined;
  nextSeq = 0;
  partOffsetMs = 0;
  lastSoundAt = Date.now();
  admittedAt = 0;
  waitingSince = 0;
  everSeenOthers = false;
  aloneSince: number | null = null;
  lostCallSince: number | null = null;
  lastParticipants = '';
  lastDialogSweep = 0;
  launchedAt = 0;
  /** Who speaks when, on the recording clock (earlier attempts' turns are in the database). */
  speakers = new SpeakerTimeline();
  observedAt = 0;
  noticePosted = false;
  /** Set when the heartbeat finds a later attempt of this bot: this run steps back. */
  superseded = false;

  constructor(
    private readonly rt: BotRuntime,
    private readonly row: BotRow,
    private readonly records: BotRecords,
    private readonly log: Logger,
    private readonly shutdown: AbortSignal,
  ) {
    this.meeting = row.meeting as MeetingRef;
    this.limits = AutomaticLeaveSchema.parse(row.automaticLeave);
    this.adapter = rt.adapters[row.platform];
  }

  async execute(): Promise<BotRunResult> {
    const attempt = await this.records.startAttempt();
    this.log.info({ attempt, platform: this.row.platform }, 'bot starting');
    const beat = () => void this.records.heartbeat(this.rt.workerId, attempt).then((ours) => ours || this.supersede(attempt), () => undefined);
    this.timers.push(setInterval(beat, this.rt.config.BOT_HEARTBEAT_INTERVAL_S * 1000));
    beat();
    this.unsubscribe = this.rt.notifications.on(CHANNELS.botControl, (id) => {
      if (id === this.row.id) void this.checkLeaveRequested();
    });
    this.timers.push(setInterval(() => void this.checkLeaveRequested(), LEAVE_POLL_MS));
    const onShutdown = () => this.stop.abort();
    this.shutdown.addEventListener('abort', onShutdown);
    const labels = { platform: this.row.platform };
    this.rt.metrics?.botsActive.inc(labels);

    try {
      if (!this.adapter) {
        return await this.finish({ subCode: 'invalid_meeting_url', message: `no adapter for ${this.row.platform} on this worker` });
      }
      this.nextSeq = await this.records.nextSegmentSeq();
      // A later attempt that finds the call empty is not early for a meeting nobody came to: people were
      // there before (an earlier attempt saw them), so it leaves after everyone_left_timeout_s.
      if (attempt > 1) this.everSeenOthers = await this.records.othersSeen();
      this.sink = await allocateAudioSink(this.rt.pulse, this.row.id);
      const started = await this.records.transition('joining_call', { message: attempt > 1 ? `attempt ${attempt}: rejoining` : null });
      if (!started) return { retry: false, reason: 'the bot was cancelled or ended before it could start' };
      const joinEnd = await this.openAndJoin();
      const end = joinEnd ?? (await this.watch());
      if (this.superseded) return await this.stepBack();
      if (!end) return await this.suspend();
      return await this.finish(end);
    } catch (err) {
      if (this.superseded) return await this.stepBack();
      this.log.error({ err }, 'bot run failed');
      if (this.shutdown.aborted) return await this.suspend();
      const subCode = (err as { subCode?: SubCode }).subCode ?? 'browser_crashed';
      return await this.finish({ subCode, message: (err as Error).message });
    } finally {
      this.rt.metrics?.botsActive.dec(labels);
      this.shutdown.removeEventListener('abort', onShutdown);
      this.unsubscribe?.();
      await this.teardownMedia();
      await this.records.writes.drain(30_000);
      // Heartbeats go on until the writes are in: after a database outage the scheduler sees a live worker, not a lost one.
      for (const t of this.timers) clearInterval(t);
    }
  }

  /** Environment that marks the bot's processes (browser, ffmpeg, STT) as its own: `ps e`, accounting. */
  processLabel(): Record<string, string> {
    return { NOTULA_BOT_ID: this.row.id };
  }

  // ---- join --------------------------------------------------------------------------

  ctx(): PlatformContext {
    return {
      page: this.session!.page,
      meeting: this.meeting,
      botName: this.row.botName,
      overrides: this.rt.config.BOT_HOST_OVERRIDES,
      log: this.log,
      signal: this.stop.signal,
    };
  }

  /** Launches the browser and sends the join request; returns an End if the join failed. */
  async openAndJoin(): Promise<End | undefined> {
    const { config } = this.rt;
    this.launchedAt = Date.now();
    this.session = await this.rt.browsers.launch({
      executablePath: config.BOT_CHROMIUM_PATH,
      headless: config.BOT_HEADLESS,
      sandbox: config.BOT_CHROMIUM_SANDBOX,
      display: this.rt.display,
      env: { ...this.sink!.env, ...this.processLabel() },
    });
    const url = applyHostOverride(await this.adapter!.navigationUrl(this.meeting), config.BOT_HOST_OVERRIDES);
    const joinDeadline = AbortSignal.timeout(config.BOT_JOIN_TIMEOUT_S * 1000);
    const signal = AbortSignal.any([this.stop.signal, joinDeadline]);
    try {
      await this.session.page.goto(url, { waitUntil: 'domcontentloaded', timeout: config.BOT_JOIN_TIMEOUT_S * 1000 });
    } catch (err) {
      return { subCode: 'join_timeout', message: `could not open the meeting page: ${(err as Error).message.split('\n')[0]}` };
    }
    const outcome = await this.adapter!.join({ ...this.ctx(), signal });
    if (outcome.ok) return undefined;
    if (this.stop.signal.aborted) return this.stopReason();
    if (joinDeadline.aborted) return { subCode: 'join_timeout', message: `no lobby or call after ${config.BOT_JOIN_TIMEOUT_S}s` };
    return { subCode: outcome.subCode, message: outcome.reason };
  }

  // ---- watch the call ----------------------------------------------------------------

  /** Observes the page until something ends the bot's stay; undefined means "suspend for a retry". */
  async watch(): Promise<End | undefined> {
    const joinStartedAt = Date.now();
    for (;;) {
      if (this.shutdown.aborted || this.superseded) return undefined;
      if (this.leaveRequested) return this.stopReason();
      if (this.captureError) return { subCode: 'capture_failed', message: this.captureError.message };
      let obs: Observation;
      try {
        if (!this.session?.browser.isConnected()) throw new Error('browser disconnected');
        const before = Date.now();
        obs = await this.adapter!.observe(this.ctx());
        // The page was read somewhere in between.
        this.observedAt = (before + Date.now()) / 2;
      } catch (err) {
        if (this.shutdown.aborted) return undefined;
        const end = await this.recoverBrowser(err as Error);
        if (end) return end;
        continue;
      }
      const end = await this.step(obs, joinStartedAt);
      if (end) return end;
      await sleep(TICK_MS);
    }
  }

  async step(obs: Observation, joinStartedAt: number): Promise<End | undefined> {
    const now = Date.now();
    const L = this.limits;
    switch (obs.state) {
      case 'ended':
        return this.endFromPage(obs);
      case 'waiting_room':
        if (this.phase === 'joining') {
          this.observeJoin('waiting_room');
          this.phase = 'waiting_room';
          this.waitingSince = now;
          await this.records.transition('in_waiting_room');
        }
        if (this.phase === 'waiting_room' && now - this.waitingSince >= L.waiting_room_timeout_s * 1000) {
          return { subCode: 'waiting_room_timeout', message: `not admitted within ${L.waiting_room_timeout_s}s` };
        }
        return undefined;
      case 'in_call':
        this.lostCallSince = null;
        if (this.phase !== 'in_call') await this.admitted();
        await this.trackParticipants(obs);
        this.trackSpeakers(obs);
        if (now - this.lastDialogSweep > 2000) {
          this.lastDialogSweep = now;
          await this.adapter!.dismissInCallDialogs(this.ctx()).catch(() => undefined);
        }
        return this.inCallLimits(now);
      default:
        if (this.phase === 'in_call') {
          this.lostCallSince ??= now;
          if (now - this.lostCallSince >= LOST_CALL_MS) return this.recoverBrowser(new Error(`page left the call (${obs.state})`), false);
          return this.inCallLimits(now);
        }
        if (this.phase === 'joining' && now - joinStartedAt >= this.rt.config.BOT_JOIN_TIMEOUT_S * 1000) {
          return { subCode: 'join_timeout', message: `neither lobby nor call after ${this.rt.config.BOT_JOIN_TIMEOUT_S}s` };
        }
        return undefined;
    }
  }

  endFromPage(obs: Observation): End {
    if (obs.end) return { subCode: obs.end.subCode, message: obs.end.reason };
    // "You left the meeting" without a reason: after a knock that means denial, in a call removal.
    if (this.phase === 'in_call') return { subCode: 'removed_from_call', message: 'the page says the bot left the meeting' };
    return { subCode: 'denied_entry', message: 'the page says the bot left the meeting before it was admitted' };
  }

  inCallLimits(now: number): End | undefined {
    const L = this.limits;
    if (now - this.admittedAt >= L.max_duration_s * 1000) return { subCode: 'max_duration', message: `reached max_duration_s (${L.max_duration_s}s)` };
    if (now - this.lastSoundAt >= L.silence_timeout_s * 1000) return { subCode: 'silence_timeout', message: `no audio for ${L.silence_timeout_s}s` };
    if (this.everSeenOthers && this.aloneSince !== null && now - this.aloneSince >= L.everyone_left_timeout_s * 1000) {
      return { subCode: 'everyone_left', message: 'everyone else left the call' };
    }
    if (!this.everSeenOthers && now - this.admittedAt >= L.noone_joined_timeout_s * 1000) {
      return { subCode: 'everyone_left', message: `nobody else joined within ${L.noone_joined_timeout_s}s` };
    }
    return undefined;
  }

  observeJoin(outcome: 'waiting_room' | 'in_call'): void {
    this.rt.metrics?.botJoinSeconds.observe({ platform: this.row.platform, outcome }, (Date.now() - this.launchedAt) / 1000);
  }

  async admitted(): Promise<void> {
    if (this.phase === 'joining') this.observeJoin('in_call');
    const first = this.admittedAt === 0;
    this.phase = 'in_call';
    if (first) {
      this.admittedAt = Date.now();
      this.lastSoundAt = Date.now();
    }
    if (this.capture) {
      // Rejoined after a browser crash: the capture never stopped, so the bot is recording at once.
      await this.records.transition('in_call_recording', { message: 'rejoined; recording continues' });
      return;
    }
    await this.records.transition('in_call_not_recording');
    await this.startRecording();
    if (!this.noticePosted) {
      this.noticePosted = true;
      void this.postRecordingNotice();
    }
  }

  /** Tells the call it is being recorded (bot setting `recording_notice`, on by default). */
  async postRecordingNotice(): Promise<void> {
    const text = recordingNoticeText(RecordingNoticeSchema.parse(this.row.recordingNotice), this.row.botName);
    if (!text || !this.session) return;
    const sent = await withTimeout(this.adapter!.sendChatMessage(this.ctx(), text), 10_000).catch((err: Error) => {
      this.log.warn({ err }, 'recording notice not posted');
      return false;
    });
    this.log.info({ sent }, sent ? 'recording notice posted' : 'the page offers no chat for the recording notice');
  }

  /** Recording-clock time of a wall-clock instant, or null before the recording started. */
  recordingClock(wallMs: number): number | null {
    if (!this.capture) return null;
    return wallMs - this.capture.startedAt.getTime() + this.partOffsetMs;
  }

  trackSpeakers(obs: Observation): void {
    const wall = this.observedAt || Date.now();
    const at = this.recordingClock(wall);
    if (at === null) return;
    const closed = [];
    for (const change of obs.speakingAt ?? []) {
      closed.push(...this.speakers.update(at - (wall - change.at), change.speaking, { exact: true }));
    }
    closed.push(...this.speakers.update(at, obs.speaking));
    void this.records.addSpeakerTurns(closed);
  }

  async trackParticipants(obs: Observation): Promise<void> {
    const people = obs.participants ?? [];
    const key = people.map((p) => p.platformId).sort().join('|');
    if (key !== this.lastParticipants) {
      this.lastParticipants = key;
      void this.records.syncParticipants(people);
    }
    const others = obs.count !== null ? Math.max(0, obs.count - 1) : people.filter((p) => !p.isSelf).length;
    if (others > 0) {
      this.everSeenOthers = true;
      this.aloneSince = null;
    } else {
      this.aloneSince ??= Date.now();
    }
  }

  // ---- recording and transcription --------------------------------------------------

  async startRecording(): Promise<void> {
    // Times in this part continue after whatever earlier attempts recorded, wherever they ran.
    const transcribedMs = await this.records.transcriptEndMs().catch(() => 0);
    try {
      this.part = await openRecordingPart({ botId: this.row.id, store: this.rt.store, spoolDir: this.rt.spoolDir, log: this.log, minOffsetMs: transcribedMs });
      this.partOffsetMs = this.part.offsetMs;
      this.capture = await startCapture({ source: this.sink!.monitor, env: { ...this.sink!.env, ...this.processLabel() }, partDir: this.part.dir, log: this.log });
    } catch (err) {
      this.log.error({ err }, 'capture did not start');
      throw Object.assign(new Error(`capture failed: ${(err as Error).message}`), { subCode: 'capture_failed' });
    }
    // Each closed segment goes to the store at once: another worker can finish the recording.
    this.capture.onSegment((file) => this.part?.ship(file));
    this.capture.onLevel((dbfs) => {
      if (dbfs > SILENCE_DBFS) this.lastSoundAt = Date.now();
    });
    this.capture.onError((err) => {
      this.log.error({ err }, 'capture gave up');
      this.captureError = err;
    });
    this.startTranscription(this.capture);
    await this.records.recordingStarted();
    await this.records.transition('in_call_recording');
  }

  startTranscription(capture: AudioCapture): void {
    const transcriber = this.rt.transcriberFor(this.row);
    const settings = this.row.transcription as { language?: string };
    this.live = transcriber.startLive({ language: settings.language ?? 'en', log: this.log, env: this.processLabel() });
    this.live.onUtterance((u) => void this.storeUtterance(u));
    this.live.onError((err) => {
      this.liveFailed = true;
      this.log.warn({ err }, 'live transcription failed; the transcript will be redone from the recording');
    });
    this.live.onFallback?.((e) => void this.transcriptionFellBack(e));
    capture.pcm.on('data', (chunk: Buffer) => this.live?.write(chunk));
  }

  /** A cloud transcriber failed mid-meeting and the local engine took over the live stream: say so; finalize has the transcript redone. */
  transcriptionFellBack(e: FallbackEvent): Promise<void> {
    const atMs = e.atMs + this.partOffsetMs;
    this.log.warn({ from: e.from, to: e.to, atMs, reason: e.reason }, 'live transcription fell back to the local engine');
    return this.records.noteTranscriptionFallback({ from: e.from, to: e.to, reason: e.reason, atMs });
  }

  storeUtterance(u: Utterance): Promise<void> {
    const offset = this.partOffsetMs;
    const shifted = { ...u, startMs: u.startMs + offset, endMs: u.endMs + offset, words: u.words.map((w) => ({ ...w, startMs: w.startMs + offset, endMs: w.endMs + offset })) };
    const turns = this.speakers.turns(shifted.startMs - 2000, shifted.endMs + 2000);
    return Promise.all(attributedSegments(shifted, turns).map((seg) => this.records.addSegment({ seq: this.nextSeq++, ...seg }))).then(() => undefined);
  }

  // ---- failures ------------------------------------------------------------------------

  /** The browser died or the page lost the call: relaunch and rejoin, keeping the recording running. */
  async recoverBrowser(err: Error, crashed = true): Promise<End | undefined> {
    if (this.relaunches >= MAX_BROWSER_RELAUNCHES) {
      return { subCode: crashed ? 'browser_crashed' : 'removed_from_call', message: `${err.message}; gave up after ${this.relaunches} rejoins` };
    }
    this.relaunches += 1;
    this.log.warn({ err, relaunch: this.relaunches }, 'rejoining the meeting');
    await this.session?.close();
    this.session = undefined;
    this.lostCallSince = null;
    const wasInCall = this.phase === 'in_call';
    this.phase = 'joining';
    await this.records.transition('joining_call', { message: `${err.message}; rejoining` });
    const end = await this.openAndJoin();
    if (end) return wasInCall && end.subCode === 'join_timeout' ? { ...end, subCode: 'browser_crashed' } : end;
    return undefined;
  }

  async checkLeaveRequested(): Promise<void> {
    if (this.leaveRequested) return;
    if (await this.records.leaveRequested().catch(() => false)) {
      this.leaveRequested = true;
      this.stop.abort();
    }
  }

  stopReason(): End {
    return { subCode: 'left_by_request', message: 'leave requested through the API' };
  }

  async saveDebugArtifacts(reason: string): Promise<void> {
    const page = this.session?.page;
    if (!page || page.isClosed()) return;
    const base = `bots/${this.row.id}/debug`;
    const shot = await page.screenshot({ fullPage: true, timeout: 5000 }).catch(() => undefined);
    if (shot) {
      const key = `${base}/${newId('art')}.png`;
      await this.rt.store.putBytes(key, shot);
      await this.records.addArtifact({ kind: 'screenshot', reason, storageKey: key, contentType: 'image/png', sizeBytes: shot.length });
    }
    const html = await page.content().catch(() => undefined);
    if (html !== undefined) {
      const key = `${base}/${newId('art')}.html`;
      const bytes = Buffer.from(html, 'utf8');
      await this.rt.store.putBytes(key, bytes);
      await this.records.addArtifact({ kind: 'html', reason, storageKey: key, contentType: 'text/html; charset=utf-8', sizeBytes: bytes.length });
    }
  }

  // ---- ending --------------------------------------------------------------------------

  async finish(end: End): Promise<BotRunResult> {
    const status = endStatusFor(end.subCode);
    this.rt.metrics?.botExits.inc({ platform: this.row.platform, sub_code: end.subCode });
    this.log.info({ subCode: end.subCode, message: end.message }, 'bot leaving');
    if (status === 'fatal') await this.saveDebugArtifacts(`${end.subCode}: ${end.message}`).catch((err) => this.log.warn({ err }, 'debug artifacts not saved'));
    if (this.session && this.phase !== 'joining') {
      await withTimeout(this.adapter!.leave(this.ctx()), 5000).catch(() => undefined);
    }
    // Queued, not awaited: in a database outage, capture stops and the recording is finalized now; the writes follow in order.
    void this.records.closeParticipants();
    void this.records.transition(status, { subCode: end.subCode, message: end.message });
    await this.teardownMedia();
    await this.finalize();
    if (status === 'call_ended') void this.records.transition('done');
    return { retry: false, reason: end.subCode };
  }

  /** Finalizes the recording of a bot whose call ended on a worker that died before it was done. */
  async finishEnded(): Promise<BotRunResult> {
    this.log.warn('finalizing the recording of a bot whose worker was lost after the call ended');
    const beat = setInterval(() => void this.records.heartbeat(this.rt.workerId).catch(() => undefined), this.rt.config.BOT_HEARTBEAT_INTERVAL_S * 1000);
    try {
      await this.finalize();
      void this.records.transition('done');
      await this.records.writes.drain(30_000);
    } finally {
      clearInterval(beat);
    }
    return { retry: false, reason: 'finalized after a lost worker' };
  }

  /** Shutdown or a lost worker: leave, keep the recorded parts, and let the job run again. */
  /** A later attempt of this bot runs elsewhere: stop everything at once and write nothing more about the bot. */
  supersede(attempt: number): void {
    if (this.superseded) return;
    this.superseded = true;
    this.log.warn({ attempt }, 'a later attempt of this bot has started on another worker; this one steps back');
    // The later attempt owns the bot's rows and its recording's clock: nothing more from here.
    this.records.writes.close();
    this.part?.close();
    this.stop.abort();
  }

  async stepBack(): Promise<BotRunResult> {
    await this.teardownMedia();
    return { retry: false, reason: 'superseded by a later attempt' };
  }

  async suspend(): Promise<BotRunResult> {
    this.log.warn('suspending bot for a retry (shutdown)');
    if (this.session && this.phase !== 'joining') await withTimeout(this.adapter!.leave(this.ctx()), 5000).catch(() => undefined);
    // It is out of the call until another worker takes the job: not in_call_* meanwhile.
    if (this.phase !== 'joining') void this.records.transition('joining_call', { message: 'worker shutting down; the bot rejoins on another worker' });
    await this.teardownMedia();
    return { retry: true, reason: 'worker shutting down' };
  }

  async teardownMedia(): Promise<void> {
    const end = this.recordingClock(Date.now());
    if (end !== null) void this.records.addSpeakerTurns(this.speakers.close(end));
    const capture = this.capture;
    this.capture = undefined;
    if (capture) await capture.stop().catch((err) => this.log.warn({ err }, 'capture stop failed'));
    const part = this.part;
    this.part = undefined;
    if (part && !(await part.drain(30_000))) this.log.warn('recording segments not all shipped to the store; the local spool keeps them');
    part?.close();
    const live = this.live;
    this.live = undefined;
    if (live) await withTimeout(live.end(), 15_000).catch(() => undefined);
    const session = this.session;
    this.session = undefined;
    await session?.close();
    const sink = this.sink;
    this.sink = undefined;
    await sink?.release().catch(() => undefined);
  }

  /** Joins every recorded part into the final file and stores it; redoes the transcript if the live one failed. */
  async finalize(): Promise<void> {
    const botSpool = path.join(this.rt.spoolDir, this.row.id);
    const result = await finalizeRecording({ botId: this.row.id, spool: botSpool, store: this.rt.store, log: this.log });
    if (!result) return;
    // The parts are what a retry would finalize from until the row points at the final file.
    void this.records.recordingFinished(result.recording).then(() => result.discardParts().catch((err) => this.log.warn({ err }, 'recording parts not removed')));
    // A cloud provider that failed mid-meeting (this attempt or an earlier one) redoes the transcript from the recording, from a job that retries.
    const fallback = result.recording.status === 'ready' && this.rt.scheduleTranscriptRedo ? await this.records.transcriptionFallback() : null;
    if (fallback) {
      await this.rt.scheduleTranscriptRedo!(this.row.id, fallback.from);
      await this.records.noteStatus(`the transcript will be redone from the recording with ${fallback.from} once it answers again (local until then)`);
    } else if (this.liveFailed && result.recording.status === 'ready') {
      await this.retranscribe(result.localFile);
    }
    await result.cleanup();
  }

  async retranscribe(file: string): Promise<void> {
    try {
      const utterances = await this.rt.transcriberFor(this.row).transcribeFile(file);
      await this.records.writes.drain(30_000);
      const turns = await this.records.speakerTurns();
      await this.records.replaceSegments(utterances.flatMap((u) => attributedSegments(u, turns)));
    } catch (err) {
      this.log.error({ err }, 'transcription from the recording failed');
    }
  }
}

/** An utterance as stored segments: split where the speaker changes, each carrying its speaker (or null). */
export function attributedSegments(u: Utterance, turns: readonly SpeakerTurn[]): Omit<SegmentInput, 'seq'>[] {
  const toJson = (w: Utterance['words'][number]) => ({ text: w.text, start_ms: w.startMs, end_ms: w.endMs, ...(w.confidence !== undefined ? { confidence: w.confidence } : {}) });
  if (u.words.length === 0) {
    const [speaker] = attributeWords([{ text: u.text, startMs: u.startMs, endMs: u.endMs }], turns);
    return [{ speaker: speaker ?? null, startMs: u.startMs, endMs: u.endMs, text: u.text, words: [] }];
  }
  return splitBySpeaker(u.words, turns).map((seg) => ({ speaker: seg.speaker, startMs: seg.startMs, endMs: seg.endMs, text: seg.text, words: seg.words.map(toJson) }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);
}

