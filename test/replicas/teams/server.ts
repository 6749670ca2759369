/**
 * A local replica of Microsoft Teams (web) for tests (see /work/shared/research/platform-mechanics.md
 * §2 and §5). It serves Teams' real URL shapes — `/l/meetup-join/<thread>/<ts>?context=…`,
 * `/meet/<digits>?p=…`, the launcher `/dl/launcher/launcher.html?url=…`, the web client
 * `/v2/?meetingjoin=true#/…` and `/light-meetings/launch?…coords=…` (whose pre-join sits in an
 * iframe) — and one page app (`page/teams.js`) renders every screen a bot meets with Teams'
 * `data-tid`s and texts, including its false positives (a `[role="alert"]` that shows up about
 * 1.5 s after admission, a hang-up button in the lobby).
 *
 * Audio works like Teams: every member of a call sends its microphone to one conference mixer
 * (`page/mixer.js`, a page in a headless Chromium standing in for the media server) and gets
 * back ONE mixed track whose stream id contains `mainAudio` — the mix of everyone else. The
 * mixer also meters each member's input and tells the server who is speaking; the server puts
 * Teams' voice-level outline (`[data-tid="voice-level-stream-outline"].vdi-frame-occlusion`) on
 * that member's tile in every Teams page.
 *
 * Point a bot at it with `BOT_HOST_OVERRIDES=<replica.hostOverride>` (teams.microsoft.com and
 * teams.live.com); the bot keeps the real path and query.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { CHROMIUM_PATH, PARTICIPANT_BROWSER_ARGS } from '../participant.js';

export interface TeamsMeetingSettings {
  /** The link shape: `/l/meetup-join/<thread>/<ts>?context=…` or `/meet/<digits>?p=<passcode>`. */
  kind: 'meetup-join' | 'meet';
  /** The host in the meeting link (work/school Teams or free Teams). */
  host: 'teams.microsoft.com' | 'teams.live.com';
  /**
   * The launcher's "join in the browser" button:
   * - `continue`: `button[data-tid="joinOnWeb"]` "Continue on this browser";
   * - `join-on-browser`: a plain button "Join on this browser";
   * - `aria-label`: `button[aria-label="Join meeting from this browser"]` whose text says something else;
   * - `none`: the link goes straight to the web client.
   */
  launcher: 'continue' | 'join-on-browser' | 'aria-label' | 'none';
  /** `v2`: the web client in the top document; `light`: `light-meetings/launch`, the whole meeting UI inside an iframe (meetup-join links only). */
  client: 'v2' | 'light';
  /**
   * "Continue without audio or video" ("Are you sure you don't want audio or video?"):
   * `before-prejoin` blocks the pre-join screen until answered; `after-join` shows up when "Join now"
   * is pressed and holds the join request back until answered; `none` never.
   */
  avModal: 'none' | 'before-prejoin' | 'after-join';
  /** Initial state of the pre-join microphone and camera switches (`aria-checked`). */
  toggles: 'on' | 'off';
  /** true: "Join now" leads to the lobby until admitted; false: straight into the call. */
  lobby: boolean;
  /** The lobby's text. */
  lobbyText: 'Someone will let you in soon' | 'Waiting to be admitted' | 'Your request to join has been sent';
  /** Hang-up button markup: `#hangup-button`, or an id-less `button[data-tid="hangup-main-btn"]`. */
  hangup: 'id' | 'data-tid';
  /**
   * Where the head count is written: `badge` (`[data-tid="roster-button-tile"]` on the People
   * button), `aria` (the People button's aria-label, "People (3 participants)"), or `heading`
   * (only in the open People pane: "In this meeting (3)").
   */
  rosterCount: 'badge' | 'aria' | 'heading';
  /** The in-call `[role="alert"].error-message` banner ~1.5 s after admission (default true). */
  falseAlert: boolean;
  /**
   * Guests not allowed: `prompt` shows "To join, sign in or use Teams on the web" instead of the
   * pre-join; `login` bounces the launcher's button to a Microsoft sign-in page
   * (`input[name="loginfmt"]`) on `loginOrigin`.
   */
  signIn: 'none' | 'prompt' | 'login';
  /** Origin of the sign-in page for `signIn: 'login'` (default: the replica's own). */
  loginOrigin?: string;
  /** How long the sign-in page takes to draw its form (default 300 ms). */
  loginFormDelayMs?: number;
  /** "Join now" ends at "Verify you're a real person" (a captcha). */
  captcha: boolean;
}

export interface TeamsMeeting {
  /** The meeting's id as `parseMeetingUrl` reads it: thread id `19:meeting_…@thread.v2` or the `/meet/` digits. */
  code: string;
  /** The real meeting link. */
  url: string;
  /** `/meet/` links: the passcode in `?p=`. */
  passcode?: string;
}

export interface TeamsMember {
  id: string;
  name: string;
  /** `host`: a test participant (joined directly); `guest`: a Teams page that joined through pre-join. */
  role: 'host' | 'guest';
  joinedAt: number;
  /** What the member's page said about its microphone and camera when it joined (and since). */
  micOn: boolean;
  cameraOn: boolean;
}

/** How someone left the call or the lobby. */
export type Departure = 'hung-up' | 'cancelled' | 'disconnected' | 'denied' | 'removed' | 'ended';

export interface ChatMessage {
  from: string;
  text: string;
  /** epoch ms */
  at: number;
}

export interface TeamsReplica {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** `teams.microsoft.com=<origin>,teams.live.com=<origin>`, for `BOT_HOST_OVERRIDES`. */
  hostOverride: string;
  createMeeting(settings?: Partial<TeamsMeetingSettings>): TeamsMeeting;
  /** Resolves with the oldest pending knock (now, or when one arrives). */
  waitForKnock(code: string, timeoutMs?: number): Promise<{ name: string }>;
  knocks(code: string): { name: string }[];
  admit(code: string, name: string): void;
  /** "Sorry, but you were denied access to the meeting". */
  deny(code: string, name: string): void;
  /** "You've been removed from this meeting". */
  remove(code: string, name: string): void;
  /** The organizer ends the meeting for everyone. */
  end(code: string): void;
  /** Everyone in the call, in join order. */
  participants(code: string): TeamsMember[];
  chatMessages(code: string): ChatMessage[];
  /** Everyone who left the call or the lobby, in order, and how (a bot that hangs up vs. one whose browser went away). */
  departures(code: string): { name: string; how: Departure }[];
  /** Names the conference mixer hears speaking right now. */
  speaking(code: string): string[];
  /** Whether the member's media link to the mixer is up. */
  mediaConnected(code: string, name: string): boolean;
  close(): Promise<void>;
}

export const DEFAULT_TEAMS_SETTINGS: TeamsMeetingSettings = {
  kind: 'meetup-join',
  host: 'teams.microsoft.com',
  launcher: 'continue',
  client: 'v2',
  avModal: 'before-prejoin',
  toggles: 'on',
  lobby: true,
  lobbyText: 'Someone will let you in soon',
  hangup: 'id',
  rosterCount: 'badge',
  falseAlert: true,
  signIn: 'none',
  captcha: false,
};

const PAGE_DIR = new URL('./page/', import.meta.url);
const readPage = (name: string) => readFileSync(new URL(name, PAGE_DIR), 'utf8');

type Screen = 'prejoin' | 'lobby' | 'denied' | 'removed' | 'ended' | 'left' | 'notfound' | 'signin' | 'captcha';
type ClientState = 'new' | 'prejoin' | 'knocking' | 'incall' | 'gone';

interface Client {
  id: string;
  ws: WebSocket;
  role: 'host' | 'guest' | 'mixer';
  meeting?: Meeting;
  state: ClientState;
  name: string;
  /** Teams' user id in the roster (`8:orgid:<guid>`, `8:teamsvisitor:<hex>`). */
  mri: string;
  joinedAt: number;
  knockedAt: number;
  micOn: boolean;
  cameraOn: boolean;
  mediaUp: boolean;
}

interface Meeting {
  code: string;
  url: string;
  passcode?: string;
  tenantId: string;
  organizerId: string;
  settings: TeamsMeetingSettings;
  clients: Set<Client>;
  chat: ChatMessage[];
  knockWaiters: Set<() => void>;
  departures: { name: string; how: Departure }[];
  mixer?: Client;
  /** The mixer page's browser context while it is open (or opening). */
  mixerContext?: Promise<BrowserContext | undefined>;
  /** Which mixer page is current: a page from a closed generation that says hello late is turned away. */
  mixerGen: number;
  speakingIds: string[];
}

type Incoming =
  | { t: 'hello'; role: 'guest'; route?: string; coords?: string }
  | { t: 'hello'; role: 'host'; code: string; name?: string }
  | { t: 'hello'; role: 'mixer'; code: string; gen: number }
  | { t: 'join'; name: string; mic: boolean; camera: boolean }
  | { t: 'devices'; mic: boolean; camera: boolean }
  | { t: 'cancel' }
  | { t: 'leave' }
  | { t: 'chat'; text: string }
  | { t: 'signal'; to?: string; data: unknown }
  | { t: 'speaking'; ids: string[] }
  | { t: 'media'; id: string; connected: boolean };

const guid = () => randomUUID();

/** `19:meeting_<base64 of a GUID>@thread.v2`, like the threads Teams creates for scheduled meetings. */
function newThreadId(): string {
  for (;;) {
    const b64 = Buffer.from(guid()).toString('base64').replace(/=+$/, '');
    if (!/[+/]/.test(b64)) return `19:meeting_${b64}@thread.v2`;
  }
}

/** Teams writes the thread and the context JSON with lower-case escapes (`19%3ameeting_…%40thread.v2`, `%7b%22Tid%22…`). */
const teamsEncode = (s: string) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Which meeting a web-client route (`/l/meetup-join/…`, `/meet/<id>?p=…`) or light-meetings `coords` points at. */
function routeTarget(route: string | undefined, coords: string | undefined): { id: string; passcode?: string } | undefined {
  if (coords) {
    try {
      const value = JSON.parse(Buffer.from(coords.replace(/ /g, '+'), 'base64').toString('utf8')) as { conversationId?: unknown };
      return typeof value.conversationId === 'string' ? { id: value.conversationId } : undefined;
    } catch {
      return undefined;
    }
  }
  if (!route) return undefined;
  const u = new URL(route, 'http://route');
  const join = /^\/l\/meetup-join\/([^/]+)\/[^/]+\/?$/.exec(u.pathname);
  if (join) return { id: decodeSafe(decodeSafe(join[1]!)) };
  const meet = /^\/meet\/(\d+)\/?$/.exec(u.pathname);
  if (meet) return { id: meet[1]!, passcode: u.searchParams.get('p') ?? undefined };
  return undefined;
}

export async function startTeamsReplica(opts: { port?: number; mediaBrowser?: Browser } = {}): Promise<TeamsReplica> {
  const files = {
    teamsHtml: readPage('teams.html'),
    teamsJs: readPage('teams.js'),
    starJs: readPage('star.js'),
    mixerHtml: readPage('mixer.html'),
    mixerJs: readPage('mixer.js'),
    participantHtml: readPage('participant.html'),
    launcherHtml: readPage('launcher.html'),
    lightHtml: readPage('light-meetings.html'),
    loginHtml: readPage('login.html'),
  };
  const meetings = new Map<string, Meeting>();
  const clients = new Set<Client>();
  let ownBrowser: Promise<Browser> | undefined;
  let closing = false;

  const mediaBrowser = (): Promise<Browser> => {
    if (opts.mediaBrowser) return Promise.resolve(opts.mediaBrowser);
    ownBrowser ??= chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: PARTICIPANT_BROWSER_ARGS });
    return ownBrowser;
  };

  const send = (c: Client, msg: object) => {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(msg));
  };
  /** Members in the call (test participants and Teams pages; not the mixer), in join order. */
  const inCall = (m: Meeting) =>
    [...m.clients].filter((c) => c.state === 'incall' && c.role !== 'mixer').sort((a, b) => a.joinedAt - b.joinedAt);
  const memberView = (c: Client) => ({ id: c.id, name: c.name, mri: c.mri, role: c.role, micOn: c.micOn });
  const clientSettings = (m: Meeting) => {
    const s = m.settings;
    return {
      avModal: s.avModal,
      toggles: s.toggles,
      lobbyText: s.lobbyText,
      hangup: s.hangup,
      rosterCount: s.rosterCount,
      falseAlert: s.falseAlert,
      organizerMri: `8:orgid:${m.organizerId}`,
    };
  };

  const broadcastRoster = (m: Meeting) => {
    const members = inCall(m).map(memberView);
    for (const c of inCall(m)) send(c, { t: 'roster', members });
  };

  /** Tells each test participant how many others it is connected with through the mixer. */
  const broadcastMediaPeers = (m: Meeting) => {
    const members = inCall(m);
    for (const c of members) {
      if (c.role !== 'host') continue;
      const count = c.mediaUp ? members.filter((o) => o !== c && o.mediaUp).length : 0;
      send(c, { t: 'media-peers', count });
    }
  };

  const showScreen = (c: Client, screen: Screen) => {
    const m = c.meeting;
    send(c, { t: 'screen', screen, settings: m ? clientSettings(m) : undefined, self: m ? memberView(c) : undefined });
  };

  // ---- the conference mixer -----------------------------------------------------------

  const openMixer = (m: Meeting) => {
    if (m.mixerContext || closing) return;
    const gen = ++m.mixerGen;
    m.mixerContext = (async () => {
      try {
        const context = await (await mediaBrowser()).newContext();
        const page = await context.newPage();
        await page.goto(`${origin}/__replica/mixer/${encodeURIComponent(m.code)}?gen=${gen}`);
        return context;
      } catch (err) {
        if (!closing) console.warn('[teams replica] mixer did not start:', (err as Error).message);
        return undefined;
      }
    })();
  };

  const mixerClosings = new Set<Promise<void>>();
  const closeMixer = (m: Meeting) => {
    const ctx = m.mixerContext;
    m.mixerContext = undefined;
    m.mixer = undefined;
    m.speakingIds = [];
    for (const c of m.clients) c.mediaUp = false;
    if (!ctx) return;
    const done = ctx.then((context) => context?.close().catch(() => undefined)).then(() => {
      mixerClosings.delete(done);
    });
    mixerClosings.add(done);
  };

  const mixerAdd = (m: Meeting, c: Client) => {
    if (m.mixer) send(m.mixer, { t: 'add', id: c.id });
    else openMixer(m);
  };

  const setSpeaking = (m: Meeting, ids: string[]) => {
    const present = new Set(inCall(m).map((c) => c.id));
    const next = ids.filter((id) => present.has(id));
    if (next.join(',') === m.speakingIds.join(',')) return;
    m.speakingIds = next;
    for (const c of inCall(m)) if (c.role === 'guest') send(c, { t: 'speaking', ids: next });
  };

  // ---- call membership ---------------------------------------------------------------

  const enterCall = (c: Client) => {
    const m = c.meeting!;
    c.state = 'incall';
    c.joinedAt = Date.now();
    send(c, { t: 'incall', self: memberView(c), members: inCall(m).map(memberView), settings: clientSettings(m), speaking: m.speakingIds });
    broadcastRoster(m);
    mixerAdd(m, c);
  };

  /** Takes a client out of the call or the lobby, showing it `screen` (if it is still there). */
  const depart = (c: Client, screen: Screen | null, how: Departure) => {
    const m = c.meeting;
    const was = c.state;
    c.state = 'gone';
    if (m && (was === 'incall' || was === 'knocking') && c.role !== 'mixer') m.departures.push({ name: c.name, how });
    if (screen) showScreen(c, screen);
    if (!m || was !== 'incall') return;
    c.mediaUp = false;
    if (m.mixer) send(m.mixer, { t: 'remove', id: c.id });
    setSpeaking(m, m.speakingIds.filter((id) => id !== c.id));
    broadcastRoster(m);
    broadcastMediaPeers(m);
    if (inCall(m).length === 0) closeMixer(m);
  };

  const knock = (c: Client, name: string) => {
    const m = c.meeting!;
    c.name = name;
    if (m.settings.captcha) {
      c.state = 'gone';
      showScreen(c, 'captcha');
      return;
    }
    if (!m.settings.lobby) {
      enterCall(c);
      return;
    }
    c.state = 'knocking';
    c.knockedAt = Date.now();
    showScreen(c, 'lobby');
    for (const w of [...m.knockWaiters]) w();
  };

  const onMessage = (c: Client, msg: Incoming) => {
    switch (msg.t) {
      case 'hello': {
        if (c.state !== 'new') return;
        if (msg.role === 'guest') {
          const target = routeTarget(msg.route, msg.coords);
          const m = target ? meetings.get(target.id) : undefined;
          if (!m || (m.passcode !== undefined && target?.passcode !== m.passcode)) {
            c.state = 'gone';
            showScreen(c, 'notfound');
            return;
          }
          c.meeting = m;
          c.role = 'guest';
          c.mri = `8:teamsvisitor:${randomBytes(16).toString('hex')}`;
          m.clients.add(c);
          if (m.settings.signIn === 'prompt') {
            c.state = 'gone';
            showScreen(c, 'signin');
            return;
          }
          c.state = 'prejoin';
          showScreen(c, 'prejoin');
          return;
        }
        const m = meetings.get(String(msg.code));
        if (!m) {
          c.state = 'gone';
          showScreen(c, 'notfound');
          return;
        }
        c.meeting = m;
        m.clients.add(c);
        if (msg.role === 'mixer') {
          c.role = 'mixer';
          c.state = 'incall';
          if (m.mixer || !m.mixerContext || Number(msg.gen) !== m.mixerGen) {
            c.ws.close();
            return;
          }
          m.mixer = c;
          for (const member of inCall(m)) if (member !== c) send(c, { t: 'add', id: member.id });
          return;
        }
        c.role = 'host';
        c.name = String(msg.name ?? 'Organizer');
        c.mri = `8:orgid:${guid()}`;
        c.micOn = true;
        enterCall(c);
        return;
      }
      case 'join':
        if (c.state !== 'prejoin') return;
        c.micOn = Boolean(msg.mic);
        c.cameraOn = Boolean(msg.camera);
        knock(c, String(msg.name).trim());
        return;
      case 'devices':
        c.micOn = Boolean(msg.mic);
        c.cameraOn = Boolean(msg.camera);
        if (c.state === 'incall' && c.meeting) broadcastRoster(c.meeting);
        return;
      case 'cancel':
        if (c.state === 'knocking' || c.state === 'prejoin') depart(c, 'left', 'cancelled');
        return;
      case 'leave':
        if (c.state === 'incall') depart(c, 'left', 'hung-up');
        return;
      case 'chat': {
        const text = String(msg.text ?? '');
        if (c.state !== 'incall' || c.role === 'mixer' || !c.meeting || !text.trim()) return;
        const message: ChatMessage = { from: c.name, text, at: Date.now() };
        c.meeting.chat.push(message);
        for (const o of inCall(c.meeting)) if (o.role !== 'mixer') send(o, { t: 'chat', fromId: c.id, ...message });
        return;
      }
      case 'signal': {
        const m = c.meeting;
        if (!m || c.state !== 'incall') return;
        if (c.role === 'mixer') {
          const to = inCall(m).find((o) => o.id === msg.to);
          if (to) send(to, { t: 'signal', data: msg.data });
        } else if (m.mixer) {
          send(m.mixer, { t: 'signal', from: c.id, data: msg.data });
        }
        return;
      }
      case 'speaking':
        if (c.role === 'mixer' && c.meeting && c.meeting.mixer === c) setSpeaking(c.meeting, (msg.ids ?? []).map(String));
        return;
      case 'media': {
        const m = c.meeting;
        if (c.role !== 'mixer' || !m || m.mixer !== c) return;
        const member = inCall(m).find((o) => o.id === msg.id);
        if (!member || member.mediaUp === Boolean(msg.connected)) return;
        member.mediaUp = Boolean(msg.connected);
        broadcastMediaPeers(m);
        return;
      }
    }
  };

  // ---- HTTP: Teams' URL shapes ----------------------------------------------------------

  const meetingForRoute = (route: string | undefined) => {
    const target = routeTarget(route, undefined);
    return target ? meetings.get(target.id) : undefined;
  };

  /** Where "join in the browser" leads for a meeting route. */
  const webClientTarget = (m: Meeting | undefined, route: string): string => {
    const s = m?.settings;
    if (m && s?.signIn === 'login') {
      const login = new URL('/common/oauth2/v2.0/authorize', s.loginOrigin ?? origin);
      login.searchParams.set('response_type', 'code');
      login.searchParams.set('client_id', '5e3ce6c0-2b1f-4285-8d4b-75ee78787346');
      login.searchParams.set('redirect_uri', `https://${s.host}/v2`);
      login.searchParams.set('scope', 'openid profile offline_access');
      login.searchParams.set('state', randomBytes(8).toString('hex'));
      if (s.loginFormDelayMs !== undefined) login.searchParams.set('__delay', String(s.loginFormDelayMs));
      return login.toString();
    }
    if (m && s?.client === 'light') {
      const coords = Buffer.from(
        JSON.stringify({ conversationId: m.code, tenantId: m.tenantId, organizerId: m.organizerId, messageId: '0' }),
      ).toString('base64');
      const q = new URLSearchParams({ anon: 'true', agent: 'web', version: '25031502300', coords, deeplinkId: guid() });
      return `/light-meetings/launch?${q.toString()}`;
    }
    return `/v2/?meetingjoin=true#${route}`;
  };

  /** `/_#/l/meetup-join/…?context=…&anon=true`: the route the launcher carries in `?url=`. */
  const launcherRoute = (pathname: string, search: string) => `${pathname}${search ? `${search}&` : '?'}anon=true`;

  const redirectToLauncher = (res: http.ServerResponse, route: string, type: string) => {
    const m = meetingForRoute(route);
    if (m && m.settings.launcher === 'none') {
      res.writeHead(302, { location: webClientTarget(m, route), 'cache-control': 'no-store' }).end();
      return;
    }
    const q = new URLSearchParams({
      url: `/_#${route}`,
      type,
      deeplinkId: guid(),
      directDl: 'true',
      msLaunch: 'true',
      enableMobilePage: 'true',
      suppressPrompt: 'true',
    });
    res.writeHead(302, { location: `/dl/launcher/launcher.html?${q.toString()}`, 'cache-control': 'no-store' }).end();
  };

  const LAUNCHER_BUTTONS: Record<TeamsMeetingSettings['launcher'], string> = {
    continue: `<button type="button" class="primary" data-tid="joinOnWeb" data-act="web">Continue on this browser</button>`,
    'join-on-browser': `<button type="button" class="primary" data-act="web">Join on this browser</button>`,
    'aria-label': `<button type="button" class="primary" aria-label="Join meeting from this browser" data-act="web"><span class="icon" aria-hidden="true">🌐</span><span>Use the web app instead</span></button>`,
    none: `<button type="button" class="primary" data-tid="joinOnWeb" data-act="web">Continue on this browser</button>`,
  };

  const launcherPage = (url: URL): string => {
    const raw = url.searchParams.get('url') ?? '';
    const route = raw.startsWith('/_#') ? raw.slice(3) : raw.startsWith('/_') ? raw.slice(2) : raw;
    const m = meetingForRoute(route);
    const button = LAUNCHER_BUTTONS[m?.settings.launcher ?? 'continue'];
    const html = files.launcherHtml
      .replace('{{WEB_BUTTON}}', button)
      .replace('{{TARGET}}', JSON.stringify(webClientTarget(m, route)).replace(/</g, '\\u003c'));
    return html;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed');
    const p = url.pathname;
    const statics: Record<string, string> = {
      '/__replica/static/teams.js': files.teamsJs,
      '/__replica/static/star.js': files.starJs,
      '/__replica/static/mixer.js': files.mixerJs,
    };
    if (statics[p] !== undefined) return reply(200, 'text/javascript', statics[p]!);
    if (p.startsWith('/__replica/participant/')) return reply(200, 'text/html', files.participantHtml);
    if (p.startsWith('/__replica/mixer/')) return reply(200, 'text/html', files.mixerHtml);
    if (p === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (p.startsWith('/__replica/')) return reply(404, 'text/plain', 'not found');
    if (/^\/l\/meetup-join\/[^/]+\/[^/]+\/?$/.test(p)) return redirectToLauncher(res, launcherRoute(p, url.search), 'meetup-join');
    if (/^\/meet\/[^/]+\/?$/.test(p)) return redirectToLauncher(res, launcherRoute(p, url.search), 'meet');
    if (p === '/dl/launcher/launcher.html') return reply(200, 'text/html', launcherPage(url));
    if (p === '/_' || p === '/_/' || p === '/v2' || p === '/v2/') return reply(200, 'text/html', files.teamsHtml);
    if (p === '/light-meetings/launch') return reply(200, 'text/html', files.lightHtml);
    if (p === '/light-meetings/experience') return reply(200, 'text/html', files.teamsHtml);
    if (p === '/common/oauth2/v2.0/authorize') return reply(200, 'text/html', files.loginHtml);
    return reply(404, 'text/html', '<!doctype html><title>Microsoft Teams</title><h1>404</h1>');
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
        mri: '',
        joinedAt: 0,
        knockedAt: 0,
        micOn: false,
        cameraOn: false,
        mediaUp: false,
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
        const m = c.meeting;
        if (c.role === 'mixer') {
          if (m && m.mixer === c) {
            // The mixer went away by itself (its page closed): start over if people are still in the call.
            m.mixer = undefined;
            m.mixerContext = undefined;
            for (const o of m.clients) o.mediaUp = false;
            if (inCall(m).some((o) => o !== c)) openMixer(m);
          }
        } else {
          depart(c, null, 'disconnected');
        }
        m?.clients.delete(c);
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
    if (!m) throw new Error(`teams replica: no meeting ${code}`);
    return m;
  };
  const knocking = (m: Meeting) =>
    [...m.clients].filter((c) => c.state === 'knocking').sort((a, b) => a.knockedAt - b.knockedAt);
  const knockBy = (code: string, name: string) => {
    const m = meeting(code);
    const c = knocking(m).find((k) => k.name === name);
    if (!c) {
      const names = knocking(m).map((k) => k.name);
      throw new Error(`teams replica: nobody named ${JSON.stringify(name)} is in the lobby of ${code} (lobby: ${JSON.stringify(names)})`);
    }
    return c;
  };
  const members = inCall;

  return {
    origin,
    port,
    hostOverride: `teams.microsoft.com=${origin},teams.live.com=${origin}`,

    createMeeting(partial = {}) {
      const settings: TeamsMeetingSettings = { ...DEFAULT_TEAMS_SETTINGS, ...partial };
      if (settings.kind === 'meet' && settings.client === 'light') throw new Error('teams replica: light-meetings needs a meetup-join meeting');
      const tenantId = guid();
      const organizerId = guid();
      let code: string;
      let url: string;
      let passcode: string | undefined;
      if (settings.kind === 'meetup-join') {
        code = newThreadId();
        const context = JSON.stringify({ Tid: tenantId, Oid: organizerId });
        url = `https://${settings.host}/l/meetup-join/${teamsEncode(code)}/0?context=${teamsEncode(context)}`;
      } else {
        do code = String(2_000_000_000_000 + Math.floor(Math.random() * 7_000_000_000_000));
        while (meetings.has(code));
        passcode = randomBytes(6).toString('base64').replace(/[^A-Za-z0-9]/g, 'x');
        url = `https://${settings.host}/meet/${code}?p=${passcode}`;
      }
      meetings.set(code, {
        code,
        url,
        passcode,
        tenantId,
        organizerId,
        settings,
        clients: new Set(),
        chat: [],
        knockWaiters: new Set(),
        departures: [],
        speakingIds: [],
        mixerGen: 0,
      });
      return { code, url, ...(passcode ? { passcode } : {}) };
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
          reject(new Error(`teams replica: nobody entered the lobby of ${code} within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) m.knockWaiters.add(check);
      });
    },

    knocks: (code) => knocking(meeting(code)).map((c) => ({ name: c.name })),

    admit(code, name) {
      enterCall(knockBy(code, name));
    },

    deny(code, name) {
      depart(knockBy(code, name), 'denied', 'denied');
    },

    remove(code, name) {
      const c = members(meeting(code)).find((o) => o.name === name);
      if (!c) throw new Error(`teams replica: nobody named ${JSON.stringify(name)} is in ${code}`);
      depart(c, 'removed', 'removed');
    },

    end(code) {
      const m = meeting(code);
      for (const c of [...m.clients]) {
        if (c.role === 'mixer') continue;
        if (c.state === 'incall' || c.state === 'knocking' || c.state === 'prejoin') {
          if (c.state !== 'prejoin') m.departures.push({ name: c.name, how: 'ended' });
          c.state = 'gone';
          showScreen(c, 'ended');
        }
      }
      closeMixer(m);
    },

    participants: (code) =>
      members(meeting(code)).map((c) => ({
        id: c.id,
        name: c.name,
        role: c.role as 'host' | 'guest',
        joinedAt: c.joinedAt,
        micOn: c.micOn,
        cameraOn: c.cameraOn,
      })),

    chatMessages: (code) => meeting(code).chat.map((x) => ({ ...x })),

    departures: (code) => meeting(code).departures.map((d) => ({ ...d })),

    speaking(code) {
      const m = meeting(code);
      return m.speakingIds.map((id) => inCall(m).find((c) => c.id === id)?.name).filter((n): n is string => n !== undefined);
    },

    mediaConnected(code, name) {
      return members(meeting(code)).some((c) => c.name === name && c.mediaUp);
    },

    async close() {
      closing = true;
      for (const m of meetings.values()) {
        m.knockWaiters.clear();
        closeMixer(m);
      }
      await Promise.all([...mixerClosings]);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownBrowser) await (await ownBrowser.catch(() => undefined))?.close();
    },
  };
}
