/**
 * A fake of Zoom's side of the Meeting SDK for tests. The real SDK needs Zoom's servers, so
 * the bot's page loads a stand-in `ZoomMtg` (sdk/zoom-mtg.js, served by Notula's own SDK page
 * server through its `assets` option) that reports every join here and replays the events a
 * test sends: the join callback, onJoinSpeed, onMeetingStatus, users joining and leaving,
 * active speakers, the waiting room, the host ending the meeting, a removal.
 *
 * The helpers send what the real SDK sends for each situation (bridge.ts lists the codes):
 * e.g. `admit` = onUserIsInWaitingRoom{self,false} + onJoinSpeed 7, 8, 13, 14.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SdkAssets } from '../../../bot/platforms/zoom-sdk/page-server.js';

/** What the page passed to ZoomMtg.join (functions left out), and what it saw. */
export interface JoinRecord {
  session: string;
  signature: string;
  meetingNumber: string;
  passWord: string;
  userName: string;
  tk?: string;
  zak?: string;
  obfToken?: string;
  page: {
    url: string;
    crossOriginIsolated: boolean;
    sharedArrayBuffer: boolean;
    pageHeaders: { coop: string | null; coep: string | null; corp: string | null };
    sdkHeaders: { coop: string | null; coep: string | null; corp: string | null };
    /** ZoomMtg calls up to this join, in order. */
    calls: string[];
    /** init's arguments (functions left out). */
    init: Record<string, unknown>;
  };
}

export interface ZoomUser {
  userId: number;
  userName: string;
  isHost?: boolean;
}

interface Session {
  id: string;
  meetingNumber: string;
  joins: JoinRecord[];
  stream: http.ServerResponse | undefined;
  queue: string[];
  attendees: ZoomUser[];
  self: ZoomUser | undefined;
  chats: { message: string; userId: number | null }[];
  left: boolean;
}

export interface FakeZoom {
  /** `http://127.0.0.1:<port>` of this control server. */
  origin: string;
  /** The stand-in SDK, for ZoomSdkPageServer's `assets`. */
  assets: SdkAssets;
  /** Resolves with the next join for a meeting number (or the latest one already made). */
  waitForJoin(meetingNumber: string, timeoutMs?: number): Promise<JoinRecord>;
  /** Every ZoomMtg.join the meeting's bot made (retries included). */
  joins(meetingNumber: string): JoinRecord[];
  /** Fires a listener event in the page, as the SDK would. */
  emit(meetingNumber: string, event: string, data: unknown): void;
  /** Answers the pending join: success, or the error callback with a code and message. */
  answerJoin(meetingNumber: string, result: { ok: true } | { ok: false; errorCode: number; errorMessage: string }): void;
  /** Join accepted and connected: join success, status 1 → 2, join speed 1 and 8; the bot is `self`. */
  connect(meetingNumber: string, self: ZoomUser): void;
  /** The bot is held in the waiting room (join speed 6, onUserIsInWaitingRoom). */
  holdInWaitingRoom(meetingNumber: string): void;
  /** The host admits the bot from the waiting room; it joins audio (7, 8, 13, 14). */
  admit(meetingNumber: string): void;
  /** Straight into the call (no waiting room): audio join (13, 14). */
  enterCall(meetingNumber: string): void;
  userJoins(meetingNumber: string, user: ZoomUser): void;
  userLeaves(meetingNumber: string, userId: number): void;
  activeSpeakers(meetingNumber: string, users: ZoomUser[]): void;
  /** The host ends the meeting: onUserLeave reasonCode 1, then status 3. */
  hostEnds(meetingNumber: string): void;
  /** The host removes the bot: onUserLeave reasonCode 6 (7 in the waiting room), then status 3. */
  removeBot(meetingNumber: string, fromWaitingRoom?: boolean): void;
  /** The SDK goes to init's leaveUrl, as it does after the meeting ends. */
  goToLeaveUrl(meetingNumber: string): void;
  chats(meetingNumber: string): { message: string; userId: number | null }[];
  /** Whether the bot called ZoomMtg.leaveMeeting. */
  left(meetingNumber: string): boolean;
  close(): Promise<void>;
}

const SDK_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sdk');

export async function startFakeZoom(): Promise<FakeZoom> {
  const sessions = new Map<string, Session>();
  const byMeeting = new Map<string, Session>();
  const joinWaiters = new Map<string, ((r: JoinRecord) => void)[]>();

  const cors = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { ...cors, 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = (req: http.IncomingMessage) =>
    new Promise<any>((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => {
        try {
          resolve(JSON.parse(data || '{}'));
        } catch (err) {
          reject(err);
        }
      });
    });

  const send = (s: Session, msg: unknown) => {
    const line = `data: ${JSON.stringify(msg)}\n\n`;
    if (s.stream) s.stream.write(line);
    else s.queue.push(line);
  };
  const session = (mn: string): Session => {
    const s = byMeeting.get(mn);
    if (!s) throw new Error(`no bot has joined meeting ${mn}`);
    return s;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type' });
      return void res.end();
    }
    if (req.method === 'POST' && url.pathname === '/join') {
      void readBody(req).then((body: JoinRecord & { session: string | null }) => {
        let s = body.session ? sessions.get(body.session) : undefined;
        if (!s) {
          s = { id: randomBytes(6).toString('hex'), meetingNumber: String(body.meetingNumber), joins: [], stream: undefined, queue: [], attendees: [], self: undefined, chats: [], left: false };
          sessions.set(s.id, s);
          byMeeting.set(s.meetingNumber, s);
        }
        const record = { ...body, session: s.id, meetingNumber: String(body.meetingNumber) } as JoinRecord;
        s.joins.push(record);
        for (const w of joinWaiters.get(s.meetingNumber)?.splice(0) ?? []) w(record);
        json(res, 200, { session: s.id });
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/events') {
      const s = sessions.get(url.searchParams.get('session') ?? '');
      if (!s) return json(res, 404, { error: 'unknown session' });
      res.writeHead(200, { ...cors, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(': connected\n\n');
      s.stream = res;
      for (const line of s.queue.splice(0)) res.write(line);
      req.on('close', () => {
        if (s.stream === res) s.stream = undefined;
      });
      return;
    }
    if (req.method === 'POST' && (url.pathname === '/chat' || url.pathname === '/leave')) {
      void readBody(req).then((body: { session: string; message?: string; userId?: number | null }) => {
        const s = sessions.get(body.session);
        if (!s) return json(res, 404, { ok: false, error: 'unknown session' });
        if (url.pathname === '/chat') s.chats.push({ message: String(body.message), userId: body.userId ?? null });
        else s.left = true;
        json(res, 200, { ok: true });
      });
      return;
    }
    json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const emit = (mn: string, event: string, data: unknown) => send(session(mn), { type: 'listener', event, data });
  const speed = (mn: string, level: number) => emit(mn, 'onJoinSpeed', { tag: 'JOIN_SPEED', level, text: `level ${level}`, time: Date.now() });
  const attendees = (s: Session) => send(s, { type: 'attendees', list: [...(s.self ? [s.self] : []), ...s.attendees] });

  return {
    origin,
    assets: { dir: SDK_DIR, scripts: [`zoom-mtg.js?control=${encodeURIComponent(origin)}`] },
    waitForJoin(mn, timeoutMs = 30_000) {
      const existing = byMeeting.get(mn)?.joins.at(-1);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no join for meeting ${mn} within ${timeoutMs} ms`)), timeoutMs);
        const list = joinWaiters.get(mn) ?? [];
        list.push((r) => {
          clearTimeout(timer);
          resolve(r);
        });
        joinWaiters.set(mn, list);
      });
    },
    joins: (mn) => byMeeting.get(mn)?.joins ?? [],
    emit,
    answerJoin(mn, result) {
      send(session(mn), { type: 'join-result', ...result });
    },
    connect(mn, self) {
      const s = session(mn);
      s.self = self;
      send(s, { type: 'current-user', user: self });
      attendees(s);
      emit(mn, 'onMeetingStatus', { meetingStatus: 1 });
      speed(mn, 1);
      send(s, { type: 'join-result', ok: true });
      speed(mn, 8);
      emit(mn, 'onMeetingStatus', { meetingStatus: 2 });
    },
    holdInWaitingRoom(mn) {
      const s = session(mn);
      speed(mn, 6);
      emit(mn, 'onUserIsInWaitingRoom', { self: true, isInWaitingRoom: true, userId: s.self?.userId });
    },
    admit(mn) {
      const s = session(mn);
      emit(mn, 'onUserIsInWaitingRoom', { self: true, isInWaitingRoom: false, userId: s.self?.userId });
      speed(mn, 7);
      speed(mn, 8);
      speed(mn, 13);
      speed(mn, 14);
    },
    enterCall(mn) {
      speed(mn, 13);
      speed(mn, 14);
    },
    userJoins(mn, user) {
      const s = session(mn);
      s.attendees = [...s.attendees.filter((u) => u.userId !== user.userId), user];
      attendees(s);
      emit(mn, 'onUserJoin', { userId: user.userId, userName: user.userName, isHost: user.isHost ?? false });
    },
    userLeaves(mn, userId) {
      const s = session(mn);
      const user = s.attendees.find((u) => u.userId === userId);
      s.attendees = s.attendees.filter((u) => u.userId !== userId);
      attendees(s);
      emit(mn, 'onUserLeave', { userId, userName: user?.userName });
    },
    activeSpeakers(mn, users) {
      emit(mn, 'onActiveSpeaker', users.map((u) => ({ userId: u.userId, userName: u.userName })));
    },
    hostEnds(mn) {
      emit(mn, 'onUserLeave', { reason: 'You are leave meeting by yourself', reasonCode: 1 });
      emit(mn, 'onMeetingStatus', { meetingStatus: 3 });
    },
    removeBot(mn, fromWaitingRoom = false) {
      emit(mn, 'onUserLeave', fromWaitingRoom
        ? { reason: 'You are removed by host/co-host from waiting room', reasonCode: 7 }
        : { reason: 'You are removed by host/co-host from meeting', reasonCode: 6 });
      emit(mn, 'onMeetingStatus', { meetingStatus: 3 });
    },
    goToLeaveUrl(mn) {
      send(session(mn), { type: 'leave-url' });
    },
    chats: (mn) => byMeeting.get(mn)?.chats ?? [],
    left: (mn) => byMeeting.get(mn)?.left ?? false,
    async close() {
      for (const s of sessions.values()) s.stream?.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
