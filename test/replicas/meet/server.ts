/**
 * A local replica of Google Meet for tests (see /work/shared/research/platform-mechanics.md
 * §1 and §5). One page app (`page/meet.html` + `page/meet.js`) renders every screen a bot
 * meets — pre-join, lobby, in call, the end screens — with Meet's selectors and texts,
 * including its false positives; the server drives its state over a WebSocket and relays
 * WebRTC signalling for a full mesh between everyone in the call.
 *
 * Point a bot at it with `BOT_HOST_OVERRIDES=meet.google.com=<replica.origin>`; the bot
 * keeps the real path and query (`/abc-defg-hij?hl=en`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface MeetingSettings {
  /** true: "Ask to join" and the lobby; false: "Join now" straight into the call. */
  lobby: boolean;
  /**
   * The media-permission modal on the pre-join screen:
   * - `continue-without`: the usual modal, with both `button[aria-label="Use microphone and camera"]`
   *   and the button "Continue without microphone and camera";
   * - `use-mic-cam`: only the "Use microphone and camera" button (screenappai issue #7);
   * - `none`: no modal, microphone and camera start on.
   */
  mediaModal: 'use-mic-cam' | 'continue-without' | 'none';
  /** `2025`: a `People - N joined` button; `2026`: no People button, `[data-avatar-count="N"]`. */
  toolbar: '2025' | '2026';
  /** Element the mic/camera toggles are rendered on: `<button>` or `<div role="button">`. */
  toggles: 'button' | 'div';
  /** A modal right after admission: none, a "Got it" tip, or the recording notice. */
  postJoinModal: 'none' | 'got-it' | 'recording-notice';
  /** Join button text instead of "Ask to join"/"Join now", e.g. "Join anyway", "Ask to join anyway". */
  joinText?: string;
  /** Knocks are refused with "You can't join this video call" (bot detection). */
  blocked?: boolean;
  /** The lobby shows a "Return to home screen" button (default true). */
  lobbyReturnButton?: boolean;
  /** An unanswered knock ends with "No one responded…" after this long (default: the replica's, 10 min). */
  lobbyTimeoutMs?: number;
}

export interface ReplicaMember {
  /** Connection id, also used in signalling. */
  id: string;
  name: string;
  /** `data-participant-id` of this member's tile. */
  participantId: string;
  /** `host`: a test participant (joined directly); `guest`: a Meet page that joined through pre-join. */
  role: 'host' | 'guest';
  joinedAt: number;
}

export interface ChatMessage {
  from: string;
  text: string;
  /** epoch ms */
  at: number;
}

export interface MeetReplica {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** `meet.google.com=<origin>`, for `BOT_HOST_OVERRIDES`. */
  hostOverride: string;
  /** The real meeting URL for a code, `https://meet.google.com/<code>`. */
  meetingUrl(code: string): string;
  createMeeting(code: string, settings?: Partial<MeetingSettings>): void;
  /** Resolves with the oldest pending knock (now, or when one arrives). */
  waitForKnock(code: string, timeoutMs?: number): Promise<{ name: string }>;
  /** Names currently knocking, oldest first. */
  knocks(code: string): { name: string }[];
  admit(code: string, name: string): void;
  deny(code: string, name: string): void;
  /** Removes someone in the call ("You've been removed from the meeting"). */
  remove(code: string, name: string): void;
  /** The host ends the meeting for everyone. */
  end(code: string): void;
  /** Everyone in the call, in join order. */
  participants(code: string): ReplicaMember[];
  chatMessages(code: string): ChatMessage[];
  /** What a client (by name) last reported it received, reported every 2 s while in the call (kept after it left). */
  receivedAudio(code: string, name: string): ReceivedAudio | null;
  close(): Promise<void>;
}

export const DEFAULT_SETTINGS: MeetingSettings = {
  lobby: true,
  mediaModal: 'continue-without',
  toolbar: '2026',
  toggles: 'div',
  postJoinModal: 'none',
};

const PAGE_DIR = new URL('./page/', import.meta.url);
const readPage = (name: string) => readFileSync(new URL(name, PAGE_DIR), 'utf8');

type Screen = 'prejoin' | 'lobby' | 'denied' | 'timeout' | 'removed' | 'ended' | 'left' | 'blocked' | 'notfound';
type ClientState = 'new' | 'prejoin' | 'knocking' | 'incall' | 'gone';

interface Client {
  id: string;
  ws: WebSocket;
  role: 'host' | 'guest';
  meeting?: Meeting;
  state: ClientState;
  name: string;
  participantId: string;
  joinedAt: number;
  knockedAt: number;
  knockTimer?: NodeJS.Timeout;
}

/** A client's received audio, summed over its connections (WebRTC inbound-rtp stats). */
export interface ReceivedAudio {
  packetsReceived: number;
  packetsLost: number;
  totalSamplesReceived: number;
  concealedSamples: number;
  silentConcealedSamples: number;
  insertedSamplesForDeceleration: number;
  removedSamplesForAcceleration: number;
}

interface Meeting {
  code: string;
  spaceId: string;
  settings: MeetingSettings;
  clients: Set<Client>;
  chat: ChatMessage[];
  knockWaiters: Set<() => void>;
  nextDevice: number;
  /** By name: the last inbound-rtp audio totals a client's page reported. */
  received: Map<string, ReceivedAudio>;
}

type Incoming =
  | { t: 'hello'; code: string; role: 'host' | 'guest'; name?: string }
  | { t: 'join'; name: string }
  | { t: 'cancel' }
  | { t: 'rx-stats'; stats: ReceivedAudio }
  | { t: 'leave' }
  | { t: 'chat'; text: string }
  | { t: 'signal'; to: string; data: unknown };

export async function startMeetReplica(
  opts: { port?: number; lobbyTimeoutMs?: number } = {},
): Promise<MeetReplica> {
  const defaultLobbyTimeout = opts.lobbyTimeoutMs ?? 10 * 60_000;
  const files = {
    meetHtml: readPage('meet.html'),
    meetJs: readPage('meet.js'),
    meshJs: readPage('mesh.js'),
    participantHtml: readPage('participant.html'),
    homeHtml: readPage('home.html'),
  };
  const meetings = new Map<string, Meeting>();
  const clients = new Set<Client>();

  const send = (c: Client, msg: object) => {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(msg));
  };
  const inCall = (m: Meeting) => [...m.clients].filter((c) => c.state === 'incall').sort((a, b) => a.joinedAt - b.joinedAt);
  const memberView = (c: Client) => ({ id: c.id, name: c.name, participantId: c.participantId, role: c.role });
  const clientSettings = (m: Meeting) => {
    const { blocked: _b, lobbyTimeoutMs: _t, ...rest } = m.settings;
    return { lobbyReturnButton: true, ...rest };
  };
  const broadcastRoster = (m: Meeting) => {
    const members = inCall(m).map(memberView);
    for (const c of inCall(m)) send(c, { t: 'roster', members });
  };

  const showScreen = (c: Client, screen: Screen) => {
    const m = c.meeting;
    send(c, { t: 'screen', screen, settings: m ? clientSettings(m) : undefined, self: m ? memberView(c) : undefined });
  };

  const clearKnock = (c: Client) => {
    if (c.knockTimer) clearTimeout(c.knockTimer);
    c.knockTimer = undefined;
  };

  const enterCall = (c: Client) => {
    const m = c.meeting!;
    clearKnock(c);
    const peers = inCall(m).map(memberView);
    c.state = 'incall';
    c.joinedAt = Date.now();
    send(c, {
      t: 'incall',
      self: memberView(c),
      peers,
      members: inCall(m).map(memberView),
      settings: clientSettings(m),
      code: m.code,
    });
    for (const o of inCall(m)) if (o !== c) send(o, { t: 'peer-joined', peer: memberView(c) });
    broadcastRoster(m);
  };

  /** Takes a client out of the call or the lobby, showing it `screen` (if it is still there). */
  const depart = (c: Client, screen: Screen | null) => {
    const m = c.meeting;
    const was = c.state;
    clearKnock(c);
    c.state = 'gone';
    if (screen) showScreen(c, screen);
    if (m && was === 'incall') {
      for (const o of inCall(m)) send(o, { t: 'peer-left', id: c.id });
      broadcastRoster(m);
    }
  };

  const knock = (c: Client, name: string) => {
    const m = c.meeting!;
    c.name = name;
    if (m.settings.blocked) {
      c.state = 'gone';
      showScreen(c, 'blocked');
      return;
    }
    if (!m.settings.lobby) {
      enterCall(c);
      return;
    }
    c.state = 'knocking';
    c.knockedAt = Date.now();
    showScreen(c, 'lobby');
    const timeout = m.settings.lobbyTimeoutMs ?? defaultLobbyTimeout;
    c.knockTimer = setTimeout(() => {
      if (c.state === 'knocking') depart(c, 'timeout');
    }, timeout);
    for (const w of [...m.knockWaiters]) w();
  };

  const onMessage = (c: Client, msg: Incoming) => {
    switch (msg.t) {
      case 'hello': {
        if (c.state !== 'new') return;
        const m = meetings.get(String(msg.code));
        if (!m) {
          c.state = 'gone';
          showScreen(c, 'notfound');
          return;
        }
        c.meeting = m;
        c.role = msg.role === 'host' ? 'host' : 'guest';
        c.participantId = `spaces/${m.spaceId}/devices/${m.nextDevice++}`;
        m.clients.add(c);
        if (c.role === 'host') {
          c.name = String(msg.name ?? 'Host');
          enterCall(c);
        } else {
          c.state = 'prejoin';
          showScreen(c, 'prejoin');
        }
        return;
      }
      case 'join':
        if (c.state === 'prejoin') knock(c, String(msg.name).trim());
        return;
      case 'cancel':
        if (c.state === 'knocking') depart(c, 'left');
        return;
      case 'leave':
        if (c.state === 'incall') depart(c, 'left');
        return;
      case 'chat': {
        const text = String(msg.text ?? '');
        if (c.state !== 'incall' || !c.meeting || !text.trim()) return;
        const message: ChatMessage = { from: c.name, text, at: Date.now() };
        c.meeting.chat.push(message);
        for (const o of inCall(c.meeting)) send(o, { t: 'chat', fromId: c.id, ...message });
        return;
      }
      case 'rx-stats':
        if (c.state === 'incall' && c.meeting && msg.stats && typeof msg.stats === 'object') c.meeting.received.set(c.name, msg.stats);
        return;
      case 'signal': {
        if (c.state !== 'incall' || !c.meeting) return;
        const to = [...c.meeting.clients].find((o) => o.id === msg.to && o.state === 'incall');
        if (to) send(to, { t: 'signal', from: c.id, data: msg.data });
        return;
      }
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed');
    const p = url.pathname;
    if (p === '/__replica/static/meet.js') return reply(200, 'text/javascript', files.meetJs);
    if (p === '/__replica/static/mesh.js') return reply(200, 'text/javascript', files.meshJs);
    if (p.startsWith('/__replica/participant/')) return reply(200, 'text/html', files.participantHtml);
    if (p === '/' || p === '/landing') return reply(200, 'text/html', files.homeHtml);
    if (p === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (p.startsWith('/__replica/')) return reply(404, 'text/plain', 'not found');
    // Any other single path segment is a meeting code; the page asks the server what to show
    // (unknown codes get "Check your meeting code").
    if (/^\/[^/]+\/?$/.test(p)) return reply(200, 'text/html', files.meetHtml);
    return reply(404, 'text/plain', 'not found');
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    if (url.pathname !== '/__replica/ws') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Client = {
        id: `c${randomBytes(5).toString('hex')}`,
        ws,
        role: 'guest',
        state: 'new',
        name: '',
        participantId: '',
        joinedAt: 0,
        knockedAt: 0,
      };
      clients.add(c);
      ws.on('message', (raw) => {
        let msg: Incoming;
        try {
          msg = JSON.parse(String(raw)) as Incoming;
        } catch {
          return;
        }
        onMessage(c, msg);
      });
      ws.on('close', () => {
        depart(c, null);
        c.meeting?.clients.delete(c);
        clients.delete(c);
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  const meeting = (code: string) => {
    const m = meetings.get(code);
    if (!m) throw new Error(`meet replica: no meeting ${code}`);
    return m;
  };
  const knocking = (m: Meeting) =>
    [...m.clients].filter((c) => c.state === 'knocking').sort((a, b) => a.knockedAt - b.knockedAt);
  const knockBy = (code: string, name: string) => {
    const m = meeting(code);
    const c = knocking(m).find((k) => k.name === name);
    if (!c) {
      const names = knocking(m).map((k) => k.name);
      throw new Error(`meet replica: nobody named ${JSON.stringify(name)} is knocking on ${code} (knocking: ${JSON.stringify(names)})`);
    }
    return c;
  };

  return {
    origin,
    port,
    hostOverride: `meet.google.com=${origin}`,
    meetingUrl: (code) => `https://meet.google.com/${code}`,

    createMeeting(code, settings = {}) {
      if (meetings.has(code)) throw new Error(`meet replica: meeting ${code} already exists`);
      meetings.set(code, {
        code,
        spaceId: randomBytes(6).toString('base64url'),
        settings: { ...DEFAULT_SETTINGS, ...settings },
        clients: new Set(),
        chat: [],
        knockWaiters: new Set(),
        nextDevice: 1,
        received: new Map(),
      });
    },

    waitForKnock(code, timeoutMs = 30_000) {
      const m = meeting(code);
      return new Promise((resolve, reject) => {
        const check = () => {
          const first = knocking(m)[0];
          if (!first) return false;
          clearTimeout(timer);
          m.knockWaiters.delete(check);
          resolve({ name: first.name });
          return true;
        };
        const timer = setTimeout(() => {
          m.knockWaiters.delete(check);
          reject(new Error(`meet replica: no knock on ${code} within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) m.knockWaiters.add(check);
      });
    },

    knocks: (code) => knocking(meeting(code)).map((c) => ({ name: c.name })),

    admit(code, name) {
      enterCall(knockBy(code, name));
    },

    deny(code, name) {
      depart(knockBy(code, name), 'denied');
    },

    remove(code, name) {
      const c = inCall(meeting(code)).find((o) => o.name === name);
      if (!c) throw new Error(`meet replica: nobody named ${JSON.stringify(name)} is in ${code}`);
      depart(c, 'removed');
    },

    end(code) {
      const m = meeting(code);
      for (const c of inCall(m)) {
        c.state = 'gone';
        showScreen(c, 'ended');
      }
    },

    participants: (code) =>
      inCall(meeting(code)).map((c) => ({
        id: c.id,
        name: c.name,
        participantId: c.participantId,
        role: c.role,
        joinedAt: c.joinedAt,
      })),

    chatMessages: (code) => meeting(code).chat.map((x) => ({ ...x })),
    receivedAudio: (code, name) => {
      const r = meeting(code).received.get(name);
      return r ? { ...r } : null;
    },

    async close() {
      for (const c of clients) {
        clearKnock(c);
        c.ws.terminate();
      }
      clients.clear();
      for (const m of meetings.values()) m.knockWaiters.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
