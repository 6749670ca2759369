/**
 * A local replica of the Zoom web client for tests (research/platform-mechanics.md §3, §5).
 * It serves the `/j/<id>` launch page ("Join from your browser"), the web client at both
 * the new `/wc/<id>/join` and the classic `/wc/join/<id>` paths, and every screen a bot
 * meets there: cookie banner, permission dialogs, name/passcode pre-join (a React-style
 * controlled name field that ignores values set without key events), the "Joining
 * Meeting..." spinner, the not-started screens, the waiting room rendered inside
 * `.meeting-app`, the call (footer with the "Leave" button that auto-hides, participants
 * panel, chat, speaker/gallery views), the end modals and the 2026 bot wall.
 *
 * Audio works like Zoom's: each client gets ONE mixed stream. A conference "mixer" page,
 * opened in the test participants' Chromium (`startZoomReplica({ mixers })`), receives
 * every member's audio over WebRTC, mixes it with WebAudio (everyone but the receiver)
 * and sends one track back. It also measures each member's input level and reports who
 * is speaking; the server pushes that to every client, which renders Zoom's active-speaker
 * markup — the only speaker signal a bot gets.
 *
 * Point a bot at it with `BOT_HOST_OVERRIDES=zoom.us=<origin>,app.zoom.us=<origin>`
 * (`replica.hostOverride`); vanity and regional hosts (`acme.zoom.us`) reach it through the
 * parent-domain match of the overrides.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface ZoomMeetingSettings {
  /**
   * The web client this meeting serves. `new`: the React client at `/wc/<id>/join`
   * (`#input-for-name`, `button.preview-join-button`, preview mic/camera buttons);
   * `classic`: `/wc/join/<id>` (`#inputname`, `#joinBtn`, no preview; the mic comes back
   * on when computer audio joins). The other path redirects to it, keeping the query.
   */
  webClient: 'new' | 'classic';
  /** `landing`: the web client bounces visitors to the `/j/<id>` launch page first ("Launch Meeting" → "Join from your browser"). */
  entry: 'direct' | 'landing';
  /** Legacy pages: the web-client URL serves a shell whose `iframe#webclient` holds the client. */
  iframe: boolean;
  /** The OneTrust cookie banner over the pre-join card (and the launch page); the card is inert until it is answered. */
  cookieBanner: boolean;
  /** How many media-permission dialogs the pre-join shows (camera+mic, then mic). */
  permissionDialogs: 0 | 1 | 2;
  /** The meeting passcode; null for none. Links carry it as `pwd`. */
  passcode: string | null;
  /** `embedded`: a matching `pwd` in the URL skips the passcode field; `field`: the field is always shown and must be typed. */
  passcodeEntry: 'embedded' | 'field';
  waitingRoom: boolean;
  /** The host has started the meeting (`startMeeting`, or a test participant joining, starts it). */
  started: boolean;
  /**
   * What a guest sees before the host starts: `wait`: after Join, "Waiting for the host to
   * start this meeting" (inside `.meeting-app`), which goes on by itself once started;
   * `error`: the web client answers "Error - Zoom" / "This meeting link is invalid (3,001)"
   * until the meeting is started, so the page must be opened again.
   */
  notStartedScreen: 'wait' | 'error';
  /** After Join the page shows the 2026 anti-bot wall (reCAPTCHA, "Automated bots aren’t allowed…"). */
  botWall: boolean;
  /** `speaker`: active-speaker container + speaker bar; `gallery`: a grid of tiles. */
  view: 'speaker' | 'gallery';
  /** Computer audio: a "Join Audio" dialog after admission, or only the footer "Join Audio" button. */
  audioPrompt: 'dialog' | 'footer';
  /** A guest left in the waiting room this long gets the timed-out modal (default: never). */
  waitingRoomTimeoutMs?: number;
  /** Meeting topic shown on the waiting screens. */
  topic: string;
}

export const DEFAULT_SETTINGS: ZoomMeetingSettings = {
  webClient: 'new',
  entry: 'direct',
  iframe: false,
  cookieBanner: false,
  permissionDialogs: 2,
  passcode: null,
  passcodeEntry: 'embedded',
  waitingRoom: true,
  started: true,
  notStartedScreen: 'wait',
  botWall: false,
  view: 'speaker',
  audioPrompt: 'dialog',
  topic: 'Weekly sync',
};

/** Where the mixer pages run: test/replicas/participant.ts `ParticipantPool` fits. */
export interface MixerHost {
  openPage(url: string): Promise<{ close(): Promise<void> }>;
}

export interface ZoomMember {
  id: string;
  name: string;
  /** `host`: a test participant (joined directly); `guest`: a web client that came through pre-join. */
  role: 'host' | 'guest';
  joinedAt: number;
  /** Whether the member joined computer audio (web clients: "Join Audio by Computer"). */
  audio: boolean;
  /** Microphone muted (or absent). */
  muted: boolean;
}

export interface ChatMessage {
  from: string;
  text: string;
  at: number;
}

/** A change of who the mixer hears, as the server pushed it to the clients. */
export interface SpeakerEvent {
  at: number;
  /** Names speaking now. */
  speaking: string[];
  /** The active speaker (sticky: the last one who started speaking). */
  active: string | null;
}

export interface ZoomReplica {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** `zoom.us=<origin>,app.zoom.us=<origin>`, for `BOT_HOST_OVERRIDES`. */
  hostOverride: string;
  /** The invitation link: `https://<host>/j/<id>?pwd=<passcode>` (pwd left out with `withPasscode: false` or without a passcode). */
  meetingUrl(id: string, opts?: { host?: string; withPasscode?: boolean }): string;
  createMeeting(id: string, settings?: Partial<ZoomMeetingSettings>): void;
  /** The host starts a meeting created with `started: false`. */
  startMeeting(id: string): void;
  /** Resolves with the oldest guest in the waiting room (now, or when one arrives). */
  waitForKnock(id: string, timeoutMs?: number): Promise<{ name: string }>;
  /** Guests in the waiting room, oldest first. */
  knocks(id: string): { name: string }[];
  /** Guests on the not-started screen, and how often a web client asked for this meeting. */
  visits(id: string): { waitingForHost: number; opened: number };
  admit(id: string, name: string): void;
  /** Removes a guest from the waiting room. */
  deny(id: string, name: string): void;
  /** Removes someone from the call. */
  remove(id: string, name: string): void;
  /** The host ends the meeting for everyone. */
  end(id: string): void;
  /** Everyone in the call, in join order. */
  participants(id: string): ZoomMember[];
  chatMessages(id: string): ChatMessage[];
  speakerEvents(id: string): SpeakerEvent[];
  close(): Promise<void>;
}

const PAGE_DIR = new URL('./page/', import.meta.url);
const readPage = (name: string) => readFileSync(new URL(name, PAGE_DIR), 'utf8');

type Screen =
  | 'invalid'
  | 'error3001'
  | 'prejoin'
  | 'joining'
  | 'notstarted'
  | 'waiting'
  | 'botwall'
  | 'ended'
  | 'removed'
  | 'timeout';
type ClientState = 'new' | 'prejoin' | 'joining' | 'notstarted' | 'waiting' | 'incall' | 'gone';

interface Client {
  id: string;
  ws: WebSocket;
  role: 'host' | 'guest' | 'mixer';
  meeting?: Meeting;
  state: ClientState;
  name: string;
  /** The `pwd` of the URL the client was opened with. */
  pwd: string;
  joinedAt: number;
  knockedAt: number;
  audio: boolean;
  muted: boolean;
  timers: NodeJS.Timeout[];
}

interface Meeting {
  id: string;
  settings: ZoomMeetingSettings;
  clients: Set<Client>;
  chat: ChatMessage[];
  knockWaiters: Set<() => void>;
  opened: number;
  /** The mixer page: opening (handle pending) and connected (client). */
  mixerHandle?: Promise<{ close(): Promise<void> }>;
  mixer?: Client;
  /** Members whose media goes through the mixer: id → receives the mix. */
  media: Map<string, boolean>;
  speaking: Set<string>;
  active: string | null;
  speakerLog: SpeakerEvent[];
}

type Incoming =
  | { t: 'hello'; id: string; role: 'host' | 'guest' | 'mixer'; name?: string; pwd?: string }
  | { t: 'join'; name: string; passcode?: string }
  | { t: 'audio'; muted: boolean }
  | { t: 'mute'; muted: boolean }
  | { t: 'leave' }
  | { t: 'chat'; text: string }
  | { t: 'signal'; to?: string; data: unknown }
  | { t: 'speaking'; ids: string[] };

const JOINING_SPINNER_MS = 400;

export async function startZoomReplica(opts: { port?: number; mixers?: MixerHost } = {}): Promise<ZoomReplica> {
  const files = {
    clientHtml: readPage('client.html'),
    clientJs: readPage('client.js'),
    linkJs: readPage('media-link.js'),
    landingHtml: readPage('landing.html'),
    participantHtml: readPage('participant.html'),
    mixerHtml: readPage('mixer.html'),
    postHtml: readPage('postattendee.html'),
  };
  const meetings = new Map<string, Meeting>();
  const clients = new Set<Client>();
  let closing = false;
  let origin = '';

  const send = (c: Client | undefined, msg: object) => {
    if (c && c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(msg));
  };
  const inCall = (m: Meeting) => [...m.clients].filter((c) => c.state === 'incall').sort((a, b) => a.joinedAt - b.joinedAt);
  const memberView = (c: Client) => ({ id: c.id, name: c.name, role: c.role, audio: c.audio, muted: c.muted });
  const hostPresent = (m: Meeting) => inCall(m).some((c) => c.role === 'host');
  const clientSettings = (m: Meeting) => {
    const s = m.settings;
    return {
      webClient: s.webClient,
      cookieBanner: s.cookieBanner,
      permissionDialogs: s.permissionDialogs,
      view: s.view,
      audioPrompt: s.audioPrompt,
      topic: s.topic,
    };
  };

  const broadcastRoster = (m: Meeting) => {
    const members = inCall(m).map(memberView);
    for (const c of inCall(m)) send(c, { t: 'roster', members });
  };

  const speakerState = (m: Meeting) => ({ t: 'speakers', speaking: [...m.speaking], active: m.active });
  const logSpeakers = (m: Meeting) => {
    const name = (id: string) => [...m.clients].find((c) => c.id === id)?.name ?? id;
    m.speakerLog.push({ at: Date.now(), speaking: [...m.speaking].map(name), active: m.active ? name(m.active) : null });
    for (const c of inCall(m)) if (c.role === 'guest') send(c, speakerState(m));
  };

  const showScreen = (c: Client, screen: Screen, extra: object = {}) => {
    const m = c.meeting;
    send(c, { t: 'screen', screen, settings: m ? clientSettings(m) : undefined, ...extra });
  };

  const clearTimers = (c: Client) => {
    for (const t of c.timers.splice(0)) clearTimeout(t);
  };

  // ---- the mixer ----------------------------------------------------------------------

  const ensureMixer = (m: Meeting) => {
    if (m.mixerHandle || closing) return;
    if (!opts.mixers) {
      console.warn(`[zoom replica] meeting ${m.id} needs audio but no mixer host was given`);
      return;
    }
    m.mixerHandle = opts.mixers.openPage(`${origin}/__replica/mixer/${encodeURIComponent(m.id)}`);
    m.mixerHandle.catch((err) => {
      if (!closing) console.warn(`[zoom replica] mixer for ${m.id} did not open:`, err);
      m.mixerHandle = undefined;
    });
  };

  const closeMixer = (m: Meeting) => {
    const handle = m.mixerHandle;
    m.mixerHandle = undefined;
    m.mixer = undefined;
    m.media.clear();
    if (m.speaking.size) {
      m.speaking.clear();
      logSpeakers(m);
    }
    void handle?.then((h) => h.close()).catch(() => undefined);
  };

  /** Routes a member's audio through the mixer; `recv`: it gets the mix back. */
  const addMedia = (c: Client, recv: boolean) => {
    const m = c.meeting!;
    m.media.set(c.id, recv);
    ensureMixer(m);
    send(m.mixer, { t: 'member', id: c.id, recv });
  };

  const dropMedia = (c: Client) => {
    const m = c.meeting;
    if (!m || !m.media.delete(c.id)) return;
    send(m.mixer, { t: 'member-left', id: c.id });
    let changed = m.speaking.delete(c.id);
    if (m.active === c.id) {
      m.active = null;
      changed = true;
    }
    if (changed) logSpeakers(m);
    if (m.media.size === 0) closeMixer(m);
  };

  // ---- moving clients between screens ----------------------------------------------------

  const enterCall = (c: Client) => {
    const m = c.meeting!;
    clearTimers(c);
    c.state = 'incall';
    c.joinedAt = Date.now();
    send(c, { t: 'incall', self: memberView(c), members: inCall(m).map(memberView), settings: clientSettings(m) });
    if (c.role === 'guest') send(c, speakerState(m));
    broadcastRoster(m);
    // Test participants talk straight away; web clients only after "Join Audio by Computer".
    if (c.role === 'host') addMedia(c, false);
  };

  /** Takes a client out of whatever it is in, showing it `screen` (null: it is gone). */
  const depart = (c: Client, screen: Screen | null) => {
    const m = c.meeting;
    const was = c.state;
    clearTimers(c);
    c.state = 'gone';
    dropMedia(c);
    if (screen) showScreen(c, screen);
    if (m && was === 'incall') broadcastRoster(m);
  };

  const putInWaitingRoom = (c: Client) => {
    const m = c.meeting!;
    c.state = 'waiting';
    c.knockedAt = Date.now();
    showScreen(c, 'waiting', { hostPresent: hostPresent(m) });
    if (m.settings.waitingRoomTimeoutMs !== undefined) {
      c.timers.push(setTimeout(() => c.state === 'waiting' && depart(c, 'timeout'), m.settings.waitingRoomTimeoutMs));
    }
    for (const w of [...m.knockWaiters]) w();
  };

  /** Where a guest goes once it may enter a started meeting. */
  const admitOrWait = (c: Client) => {
    const m = c.meeting!;
    if (m.settings.waitingRoom) putInWaitingRoom(c);
    else enterCall(c);
  };

  const start = (m: Meeting) => {
    if (m.settings.started) return;
    m.settings.started = true;
    for (const c of m.clients) if (c.state === 'notstarted') admitOrWait(c);
  };

  const passcodeNeeded = (m: Meeting, pwd: string) =>
    m.settings.passcode !== null && (m.settings.passcodeEntry === 'field' || pwd !== m.settings.passcode);

  const onJoin = (c: Client, name: string, passcode: string | undefined) => {
    const m = c.meeting!;
    if (!name) return showScreen(c, 'prejoin', { passcodeField: passcodeNeeded(m, c.pwd), error: 'Please enter your name' });
    if (passcodeNeeded(m, c.pwd) && passcode !== m.settings.passcode) {
      return showScreen(c, 'prejoin', { passcodeField: true, error: 'Passcode wrong', name });
    }
    c.name = name;
    if (m.settings.botWall) {
      c.state = 'gone';
      return showScreen(c, 'botwall');
    }
    c.state = 'joining';
    showScreen(c, 'joining');
    c.timers.push(
      setTimeout(() => {
        if (c.state !== 'joining') return;
        if (!m.settings.started) {
          c.state = 'notstarted';
          showScreen(c, 'notstarted');
          return;
        }
        admitOrWait(c);
      }, JOINING_SPINNER_MS),
    );
  };

  const onMessage = (c: Client, msg: Incoming) => {
    switch (msg.t) {
      case 'hello': {
        if (c.state !== 'new') return;
        const m = meetings.get(String(msg.id));
        if (msg.role === 'mixer') {
          if (!m) return;
          c.role = 'mixer';
          c.meeting = m;
          m.mixer = c;
          // A fresh mixer: everyone with media connects again.
          for (const [id, recv] of m.media) {
            send([...m.clients].find((o) => o.id === id), { t: 'media-reset' });
            send(c, { t: 'member', id, recv });
          }
          return;
        }
        if (!m) {
          c.state = 'gone';
          showScreen(c, 'invalid');
          return;
        }
        c.meeting = m;
        m.clients.add(c);
        c.role = msg.role === 'host' ? 'host' : 'guest';
        c.pwd = String(msg.pwd ?? '');
        if (c.role === 'host') {
          c.name = String(msg.name ?? 'Host');
          c.audio = true;
          c.muted = false;
          start(m);
          enterCall(c);
          for (const o of m.clients) if (o.state === 'waiting') send(o, { t: 'screen', screen: 'waiting', hostPresent: true, settings: clientSettings(m) });
          return;
        }
        m.opened++;
        if (!m.settings.started && m.settings.notStartedScreen === 'error') {
          c.state = 'gone';
          showScreen(c, 'error3001');
          return;
        }
        c.state = 'prejoin';
        showScreen(c, 'prejoin', { passcodeField: passcodeNeeded(m, c.pwd) });
        return;
      }
      case 'join':
        if (c.state === 'prejoin') onJoin(c, String(msg.name ?? '').trim(), msg.passcode === undefined ? undefined : String(msg.passcode));
        return;
      case 'audio':
        if (c.state !== 'incall' || c.audio) return;
        c.audio = true;
        c.muted = Boolean(msg.muted);
        addMedia(c, true);
        broadcastRoster(c.meeting!);
        return;
      case 'mute':
        if (c.state !== 'incall') return;
        c.muted = Boolean(msg.muted);
        broadcastRoster(c.meeting!);
        return;
      case 'leave':
        if (c.state !== 'gone' && c.state !== 'new') depart(c, null);
        return;
      case 'chat': {
        const text = String(msg.text ?? '');
        if (c.state !== 'incall' || !c.meeting || !text.trim()) return;
        const message: ChatMessage = { from: c.name, text, at: Date.now() };
        c.meeting.chat.push(message);
        for (const o of inCall(c.meeting)) send(o, { t: 'chat', fromId: c.id, ...message });
        return;
      }
      case 'signal': {
        const m = c.meeting;
        if (!m) return;
        if (c.role === 'mixer') {
          const to = [...m.clients].find((o) => o.id === msg.to && m.media.has(o.id));
          send(to, { t: 'signal', data: msg.data });
        } else if (m.media.has(c.id)) {
          send(m.mixer, { t: 'signal', from: c.id, data: msg.data });
        }
        return;
      }
      case 'speaking': {
        const m = c.meeting;
        if (c.role !== 'mixer' || !m) return;
        const now = new Set((msg.ids ?? []).filter((id) => m.media.has(id)));
        const started = [...now].filter((id) => !m.speaking.has(id));
        const same = now.size === m.speaking.size && started.length === 0;
        if (same) return;
        m.speaking = now;
        if (started.length) m.active = started[started.length - 1]!;
        logSpeakers(m);
        return;
      }
    }
  };

  // ---- HTTP ------------------------------------------------------------------------------

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    const reply = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const html = (body: string) => reply(200, 'text/html; charset=utf-8', body);
    const redirect = (to: string) => {
      res.writeHead(302, { location: to, 'cache-control': 'no-store' });
      res.end();
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed');
    const p = url.pathname;
    if (p === '/__replica/static/client.js') return reply(200, 'text/javascript; charset=utf-8', files.clientJs);
    if (p === '/__replica/static/media-link.js') return reply(200, 'text/javascript; charset=utf-8', files.linkJs);
    if (p.startsWith('/__replica/participant/')) return html(files.participantHtml);
    if (p.startsWith('/__replica/mixer/')) return html(files.mixerHtml);
    if (p.startsWith('/__replica/recaptcha/')) return html('<!doctype html><title>reCAPTCHA</title><p>I\'m not a robot</p>');
    if (p === '/favicon.ico') return reply(204, 'text/plain', '');
    if (p.startsWith('/__replica/')) return reply(404, 'text/plain', 'not found');
    if (p === '/postattendee') return html(files.postHtml);
    // The launch page's automatic download of the desktop client.
    if (p.endsWith('.exe')) {
      return reply(200, 'application/octet-stream', Buffer.from('MZ replica installer'), { 'content-disposition': 'attachment; filename="ZoomInstaller.exe"' });
    }

    let m: RegExpExecArray | null;
    if ((m = /^\/j\/(\d+)\/?$/.exec(p))) {
      const meeting = meetings.get(m[1]!);
      const view = meeting ? { webClient: meeting.settings.webClient, cookieBanner: meeting.settings.cookieBanner } : null;
      return html(files.landingHtml.replace('/*MEETING*/ null', JSON.stringify(view)));
    }
    const classic = /^\/wc\/join\/(\d+)\/?$/.exec(p);
    const modern = /^\/wc\/(\d+)\/join\/?$/.exec(p);
    if (classic || modern) {
      const id = (classic ?? modern)![1]!;
      const meeting = meetings.get(id);
      if (meeting) {
        const s = meeting.settings;
        if (s.entry === 'landing' && !url.searchParams.has('_x_zm_rhtaid')) {
          const q = new URLSearchParams(url.search);
          q.set('_x_zm_rtaid', randomBytes(6).toString('hex'));
          return redirect(`/j/${id}?${q}`);
        }
        if (s.webClient === 'classic' && modern) return redirect(`/wc/join/${id}${url.search}`);
        if (s.webClient === 'new' && classic) return redirect(`/wc/${id}/join${url.search}`);
        if (s.iframe && !url.searchParams.has('_wc_frame')) {
          const q = new URLSearchParams(url.search);
          q.set('_wc_frame', '1');
          return html(
            `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Zoom</title></head><body style="margin:0">` +
              `<iframe id="webclient" name="webclient" src="${p}?${q}" allow="microphone; camera; autoplay" style="border:0;width:100%;height:100vh"></iframe>` +
              `</body></html>`,
          );
        }
      }
      return html(files.clientHtml);
    }
    if (p === '/') return html('<!doctype html><title>Zoom</title><h1>One platform to connect</h1>');
    return reply(404, 'text/html; charset=utf-8', '<!doctype html><title>Error - Zoom</title><p>Page not found</p>');
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
        id: `u${randomBytes(5).toString('hex')}`,
        ws,
        role: 'guest',
        state: 'new',
        name: '',
        pwd: '',
        joinedAt: 0,
        knockedAt: 0,
        audio: false,
        muted: true,
        timers: [],
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
        clients.delete(c);
        const meeting = c.meeting;
        if (c.role === 'mixer') {
          if (meeting?.mixer === c) meeting.mixer = undefined;
          return;
        }
        depart(c, null);
        meeting?.clients.delete(c);
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
  origin = `http://127.0.0.1:${port}`;

  const meeting = (id: string) => {
    const m = meetings.get(id);
    if (!m) throw new Error(`zoom replica: no meeting ${id}`);
    return m;
  };
  const waitingGuests = (m: Meeting) =>
    [...m.clients].filter((c) => c.state === 'waiting').sort((a, b) => a.knockedAt - b.knockedAt);
  const guestNamed = (id: string, name: string) => {
    const m = meeting(id);
    const c = waitingGuests(m).find((k) => k.name === name);
    if (!c) {
      const names = waitingGuests(m).map((k) => k.name);
      throw new Error(`zoom replica: nobody named ${JSON.stringify(name)} is in the waiting room of ${id} (waiting: ${JSON.stringify(names)})`);
    }
    return c;
  };

  return {
    origin,
    port,
    hostOverride: `zoom.us=${origin},app.zoom.us=${origin}`,

    meetingUrl(id, o = {}) {
      const m = meeting(id);
      const pwd = o.withPasscode !== false && m.settings.passcode ? `?pwd=${encodeURIComponent(m.settings.passcode)}` : '';
      return `https://${o.host ?? 'us02web.zoom.us'}/j/${id}${pwd}`;
    },

    createMeeting(id, settings = {}) {
      if (!/^\d{9,11}$/.test(id)) throw new Error(`zoom replica: meeting ids are 9 to 11 digits, got ${id}`);
      if (meetings.has(id)) throw new Error(`zoom replica: meeting ${id} already exists`);
      meetings.set(id, {
        id,
        settings: { ...DEFAULT_SETTINGS, ...settings },
        clients: new Set(),
        chat: [],
        knockWaiters: new Set(),
        opened: 0,
        media: new Map(),
        speaking: new Set(),
        active: null,
        speakerLog: [],
      });
    },

    startMeeting(id) {
      start(meeting(id));
    },

    waitForKnock(id, timeoutMs = 30_000) {
      const m = meeting(id);
      return new Promise((resolve, reject) => {
        const check = () => {
          const first = waitingGuests(m)[0];
          if (!first) return false;
          clearTimeout(timer);
          m.knockWaiters.delete(check);
          resolve({ name: first.name });
          return true;
        };
        const timer = setTimeout(() => {
          m.knockWaiters.delete(check);
          reject(new Error(`zoom replica: nobody entered the waiting room of ${id} within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) m.knockWaiters.add(check);
      });
    },

    knocks: (id) => waitingGuests(meeting(id)).map((c) => ({ name: c.name })),

    visits(id) {
      const m = meeting(id);
      return { waitingForHost: [...m.clients].filter((c) => c.state === 'notstarted').length, opened: m.opened };
    },

    admit(id, name) {
      enterCall(guestNamed(id, name));
    },

    deny(id, name) {
      depart(guestNamed(id, name), 'removed');
    },

    remove(id, name) {
      const c = inCall(meeting(id)).find((o) => o.name === name);
      if (!c) throw new Error(`zoom replica: nobody named ${JSON.stringify(name)} is in ${id}`);
      depart(c, 'removed');
    },

    end(id) {
      const m = meeting(id);
      // Everyone past the pre-join gets the modal; a page still on the pre-join finds the
      // meeting not started when it tries to join.
      for (const c of [...m.clients]) {
        if (!['joining', 'notstarted', 'waiting', 'incall'].includes(c.state)) continue;
        clearTimers(c);
        c.state = 'gone';
        showScreen(c, 'ended');
      }
      closeMixer(m);
      m.settings.started = false;
    },

    participants: (id) =>
      inCall(meeting(id)).map((c) => ({ id: c.id, name: c.name, role: c.role as 'host' | 'guest', joinedAt: c.joinedAt, audio: c.audio, muted: c.muted })),

    chatMessages: (id) => meeting(id).chat.map((x) => ({ ...x })),

    speakerEvents: (id) => meeting(id).speakerLog.map((e) => ({ ...e, speaking: [...e.speaking] })),

    async close() {
      closing = true;
      for (const m of meetings.values()) {
        m.knockWaiters.clear();
        closeMixer(m);
      }
      for (const c of clients) {
        clearTimers(c);
        c.ws.terminate();
      }
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
