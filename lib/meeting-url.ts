/**
 * Meeting links: parse whatever a user or a calendar gives us into a canonical `MeetingRef`
 * (Google Meet, Microsoft Teams, Zoom), give each meeting a stable dedup key, and find meeting
 * links in free text. Rules follow the platform research (platform-mechanics §1.1, §2.1, §3.1).
 *
 * Canonical URLs keep the real host; BOT_HOST_OVERRIDES is applied later by the bot.
 */

export type Platform = 'google_meet' | 'microsoft_teams' | 'zoom';

export interface MeetingRef {
  platform: Platform;
  /** Canonical https URL the bot navigates to (real host; BOT_HOST_OVERRIDES is applied later by the bot, not here). */
  url: string;
  /** Meet: the code `abc-defg-hij` or workspace nickname; Teams: thread id (`19:meeting_…@thread.v2`) or the numeric `/meet/<id>`; Zoom: the numeric meeting id (no spaces). */
  meetingId: string;
  /** Teams `?p=` passcode, Zoom `pwd`. */
  passcode?: string;
  /** Teams meetup-join context. */
  tenantId?: string;
  organizerId?: string;
  /** Zoom registrant token `tk`. */
  zoomToken?: string;
}

export type ParseResult = { ok: true; meeting: MeetingRef } | { ok: false; reason: string };

const MAX_INPUT_LENGTH = 4096;
/** SafeLinks around a Google redirect around … — real mail rarely nests more than twice. */
const MAX_REDIRECT_DEPTH = 4;
const SUPPORTED = 'Notula supports Google Meet (meet.google.com), Microsoft Teams (teams.microsoft.com, teams.live.com) and Zoom (zoom.us) links';

const fail = (reason: string): ParseResult => ({ ok: false, reason });
const ok = (meeting: MeetingRef): ParseResult => ({ ok: true, meeting });

/** Parses any user-supplied meeting link (trims, accepts missing scheme and Teams' `msteams:` app links, unwraps Outlook SafeLinks `*.safelinks.protection.outlook.com/?url=` and Google `google.com/url?q=` redirects, possibly nested), detects the platform and normalises it. Anything else → ok:false with a human reason. Never throws. */
export function parseMeetingUrl(input: string): ParseResult {
  try {
    return parseAt(input, 0);
  } catch {
    return fail('not a valid meeting link');
  }
}

function parseAt(input: unknown, depth: number): ParseResult {
  const url = toHttpUrl(input);
  if (typeof url === 'string') return fail(url);

  const redirector = REDIRECTORS.find((r) => r.matches(url));
  if (redirector) {
    const target = redirector.params.map((p) => url.searchParams.get(p)).find((v) => v);
    if (!target) return fail(`${redirector.name} link without a target URL`);
    if (depth >= MAX_REDIRECT_DEPTH) return fail('too many nested redirect links');
    return parseAt(target, depth + 1);
  }

  const host = url.hostname;
  if (host === 'meet.google.com') return parseMeet(url);
  const teamsHost = TEAMS_HOSTS.get(host);
  if (teamsHost) return parseTeams(url, teamsHost);
  const zoomHost = zoomCanonicalHost(host);
  if (zoomHost) return parseZoom(url, zoomHost);
  return fail(`unsupported meeting link host "${host}": ${SUPPORTED}`);
}

/** Cleans user input into an http(s) URL, or returns why it cannot be one. */
function toHttpUrl(input: unknown): URL | string {
  if (typeof input !== 'string') return 'the meeting link must be a string';
  if (input.length > MAX_INPUT_LENGTH) return `the meeting link is longer than ${MAX_INPUT_LENGTH} characters`;
  const s = stripWrapping(input.trim());
  if (!s) return 'the meeting link is empty';

  let withScheme = s;
  const scheme = /^[a-z][a-z0-9+.-]*:(\/\/)?/i.exec(s);
  // The Teams app's own deep links (`msteams:/l/meetup-join/…`, what the launcher opens) name the web route.
  const teamsApp = /^msteams:(?:\/\/([^/?#]+))?(\/.*)$/i.exec(s);
  if (teamsApp) withScheme = `https://${teamsApp[1] ?? 'teams.microsoft.com'}${teamsApp[2]}`;
  else if (s.startsWith('//')) withScheme = `https:${s}`;
  // No scheme, or `host:port/…`, which merely looks like one.
  else if (!scheme || (!scheme[1] && /^\d/.test(s.slice(scheme[0].length)))) withScheme = `https://${s}`;

  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `only http(s) meeting links are supported, not "${url.protocol}"`;
  if (url.username || url.password) return 'meeting links must not contain credentials';
  return url;
}

const LEADING_WRAPPERS = '<([\'"';
const TRAILING_WRAPPERS = '>)]"\'.,;:!?*';

/**
 * Drops brackets, quotes and sentence punctuation that ride along when a link is copied out of
 * prose; none of the platforms' links ends in these. A loop, not a regex: `/[…]+$/` is
 * quadratic on long runs of punctuation.
 */
function stripWrapping(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && LEADING_WRAPPERS.includes(s[start]!)) start++;
  while (end > start && TRAILING_WRAPPERS.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

interface Redirector {
  name: string;
  matches(url: URL): boolean;
  /** Query parameters holding the wrapped link, first present wins. */
  params: string[];
}

const REDIRECTORS: Redirector[] = [
  {
    // Microsoft Defender rewrites every link in mail: `nam02.safelinks.protection.outlook.com/?url=…&data=…`
    // (newer tenants add a path such as `/ap/t-59584e83/`). GCC High uses office365.us.
    name: 'Outlook SafeLinks',
    matches: (u) => /\.safelinks\.protection\.(?:outlook\.com|office365\.us)$/.test(u.hostname),
    params: ['url'],
  },
  {
    // Google Calendar/Gmail wrap links as `www.google.com/url?q=…&sa=D&…` (sometimes `url=`).
    name: 'Google redirect',
    matches: (u) => (u.hostname === 'google.com' || u.hostname === 'www.google.com') && u.pathname === '/url',
    params: ['q', 'url'],
  },
];

/** `decodeURIComponent` that returns the input instead of throwing on a stray `%`. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const pathSegments = (url: URL): string[] => url.pathname.split('/').filter((p) => p !== '');

// ---------------------------------------------------------------------------------------------
// Google Meet

const MEET_CODE = /^([a-z]{3})-?([a-z]{4})-?([a-z]{3})$/;
const MEET_NICKNAME = /^[a-z0-9][a-z0-9-]{3,38}[a-z0-9]$/;
/** First path segments on meet.google.com that are pages, not meetings. */
const MEET_RESERVED = new Set(['lookup', 'new', 'landing', 'about']);

function parseMeet(url: URL): ParseResult {
  const [first, ...rest] = pathSegments(url).map((p) => decode(p).toLowerCase());
  if (first === undefined) return fail('the Google Meet link has no meeting code');
  if (MEET_RESERVED.has(first)) return fail(`meet.google.com/${first} links are not joinable meetings`);
  if (rest.length > 0) return fail('not a Google Meet meeting link (expected meet.google.com/abc-defg-hij)');

  const code = MEET_CODE.exec(first);
  // A ten-letter code without dashes is also a valid nickname; the code reading wins.
  const meetingId = code ? `${code[1]}-${code[2]}-${code[3]}` : MEET_NICKNAME.test(first) ? first : undefined;
  if (!meetingId) return fail(`"${first}" is not a valid Google Meet code (expected abc-defg-hij)`);
  // Nothing from the query is kept: `authuser` would pick an account the bot does not have.
  return ok({ platform: 'google_meet', url: `https://meet.google.com/${meetingId}`, meetingId });
}

// ---------------------------------------------------------------------------------------------
// Microsoft Teams

/** Teams hosts → the host the canonical URL uses (teams.cloud.microsoft is the commercial cloud's new name). */
const TEAMS_HOSTS = new Map<string, string>([
  ['teams.microsoft.com', 'teams.microsoft.com'],
  ['teams.cloud.microsoft', 'teams.microsoft.com'],
  ['teams.live.com', 'teams.live.com'],
  ['gov.teams.microsoft.us', 'gov.teams.microsoft.us'],
  ['dod.teams.microsoft.us', 'dod.teams.microsoft.us'],
]);

/** Meeting chats are `19:meeting_…@thread.v2`; channel meetings use the channel's `@thread.tacv2`. */
const TEAMS_THREAD = /^19:[\w.+=-]+@thread\.(?:v2|tacv2|skype)$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The route a Teams link points at: the launcher carries it in `?url=`, the web client in the
 * fragment (`/_#/l/meetup-join/…`, `/v2/?meetingjoin=true#/meet/<id>?p=…`); they nest.
 */
function teamsRoute(url: URL): URL {
  let route = url;
  for (let i = 0; i < 3; i++) {
    const launcherTarget = route.pathname.endsWith('/dl/launcher/launcher.html') ? route.searchParams.get('url') : null;
    if (launcherTarget) route = new URL(launcherTarget, route.origin);
    else if (route.hash.startsWith('#/')) route = new URL(route.hash.slice(1), route.origin);
    else break;
  }
  return route;
}

function parseTeams(url: URL, host: string): ParseResult {
  const route = teamsRoute(url);
  const path = route.pathname;

  const join = /\/l\/meetup-join\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
  if (join) {
    // The thread arrives encoded once (`19%3ameeting_…%40thread.v2`) or, out of some mailers, twice.
    const thread = decode(decode(join[1]!));
    if (/^\d+$/.test(thread)) return fail('a numeric Teams meetup-join link cannot be joined; use the full "Join the meeting now" link');
    if (!TEAMS_THREAD.test(thread)) return fail('the Teams meeting link has no valid meeting thread id');
    const ts = join[2];
    if (ts === undefined || !/^\d+$/.test(ts)) return fail('the Teams meeting link is incomplete (missing the part after the thread id)');
    const rawContext = route.searchParams.get('context');
    const context = rawContext === null ? {} : parseTeamsContext(rawContext);
    if (!context) return fail('the Teams meeting link has a malformed context parameter');
    return ok(teamsMeetupJoin(host, thread, ts, context));
  }

  if (/\/light-meetings\/launch\/?$/.test(path)) return parseTeamsLightMeeting(route, host);

  const meet = /^\/meet\/([^/]+)\/?$/.exec(path);
  if (meet) {
    const meetingId = decode(meet[1]!).replace(/[\s-]/g, '');
    if (!/^\d{10,15}$/.test(meetingId)) return fail('the Teams meeting id must be 10 to 15 digits');
    const passcode = leadingMatch(route.searchParams.get('p'), /^[A-Za-z0-9]+/);
    const query = passcode ? `?p=${encodeURIComponent(passcode)}` : '';
    return ok({ platform: 'microsoft_teams', url: `https://${host}/meet/${meetingId}${query}`, meetingId, ...(passcode ? { passcode } : {}) });
  }

  return fail('not a Teams meeting link (expected /l/meetup-join/… or /meet/<id>)');
}

interface TeamsContext {
  Tid?: string;
  Oid?: string;
  /** Present in some channel-meeting links; kept so the link still resolves. */
  MessageId?: string;
}

/** The `context` JSON (`{"Tid":"…","Oid":"…"}`), tolerating one extra level of URL encoding. Undefined when malformed. */
function parseTeamsContext(raw: string): TeamsContext | undefined {
  for (const candidate of [raw, decode(raw)]) {
    try {
      return toTeamsContext(JSON.parse(candidate));
    } catch {
      // try the decoded form next
    }
  }
  return undefined;
}

/** Validates context fields: tenant and organizer are GUIDs (lower-cased) when present. Undefined when malformed. */
function toTeamsContext(value: unknown): TeamsContext | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { Tid, Oid, MessageId } = value as Record<string, unknown>;
  const context: TeamsContext = {};
  for (const [key, id] of [['Tid', Tid], ['Oid', Oid]] as const) {
    if (id === undefined) continue;
    if (typeof id !== 'string' || !GUID.test(id)) return undefined;
    context[key] = id.toLowerCase();
  }
  if (typeof MessageId === 'string') context.MessageId = MessageId;
  return context;
}

/** `light-meetings/launch?coords=<base64 JSON {conversationId, tenantId, organizerId, messageId}>`, rebuilt as meetup-join. */
function parseTeamsLightMeeting(route: URL, host: string): ParseResult {
  const coords = route.searchParams.get('coords');
  if (!coords) return fail('the Teams light-meetings link has no coords parameter');
  let value: unknown;
  try {
    // A `+` of the base64 turns into a space when the query is decoded. Node's base64 decoder
    // also accepts the URL-safe alphabet.
    value = JSON.parse(Buffer.from(coords.replace(/ /g, '+'), 'base64').toString('utf8'));
  } catch {
    return fail('the Teams light-meetings link has malformed coords');
  }
  if (typeof value !== 'object' || value === null) return fail('the Teams light-meetings link has malformed coords');
  const { conversationId, tenantId, organizerId, messageId } = value as Record<string, unknown>;
  if (typeof conversationId !== 'string' || !TEAMS_THREAD.test(conversationId)) {
    return fail('the Teams light-meetings link has no valid meeting thread id');
  }
  const context = toTeamsContext({ Tid: tenantId, Oid: organizerId });
  if (!context) return fail('the Teams light-meetings link has a malformed tenant or organizer id');
  const ts = typeof messageId === 'string' && /^\d+$/.test(messageId) ? messageId : '0';
  return ok(teamsMeetupJoin(host, conversationId, ts, context));
}

function teamsMeetupJoin(host: string, thread: string, ts: string, context: TeamsContext): MeetingRef {
  const query = Object.keys(context).length > 0 ? `?context=${encodeURIComponent(JSON.stringify(context))}` : '';
  return {
    platform: 'microsoft_teams',
    url: `https://${host}/l/meetup-join/${encodeURIComponent(thread)}/${ts}${query}`,
    meetingId: thread,
    ...(context.Tid ? { tenantId: context.Tid } : {}),
    ...(context.Oid ? { organizerId: context.Oid } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Zoom

/**
 * The host a Zoom join URL keeps: regional and vanity subdomains stay (`us02web.zoom.us`,
 * `acme.zoom.us`), `zoom.com` becomes `zoom.us`, and the generic `www.`/`app.` collapse to the
 * bare domain. Undefined for non-Zoom hosts.
 */
function zoomCanonicalHost(hostname: string): string | undefined {
  const host = hostname === 'zoom.com' || hostname.endsWith('.zoom.com') ? `${hostname.slice(0, -'zoom.com'.length)}zoom.us` : hostname;
  const domain = ['zoom.us', 'zoomgov.com'].find((d) => host === d || host.endsWith(`.${d}`));
  if (!domain) return undefined;
  return host === `www.${domain}` || host === `app.${domain}` ? domain : host;
}

function parseZoom(url: URL, host: string): ParseResult {
  if (host === 'events.zoom.us' || host.endsWith('.events.zoom.us')) {
    return fail('Zoom Events links cannot be joined by a bot; use the meeting link with /j/<meeting id>');
  }
  const segs = pathSegments(url);
  const [a, b, c] = segs;
  if (a === 'my') return fail('Zoom personal links (/my/<name>) have no meeting id; use the link with /j/<meeting id>');
  let rawId: string | undefined;
  if (segs.length === 2 && (a === 'j' || a === 'w' || a === 's')) rawId = b; // `/s/` is the host's start link
  else if (segs.length === 3 && a === 'wc' && b === 'join') rawId = c;
  else if (segs.length === 3 && a === 'wc' && (c === 'join' || c === 'start')) rawId = b; // `/wc/<id>/start`: the host's web-client start link
  if (rawId === undefined) return fail('not a Zoom meeting link (expected zoom.us/j/<meeting id>)');

  // People paste the id as shown in invites: `123 4567 8901`.
  const meetingId = decode(rawId).replace(/[\s-]/g, '');
  if (!/^\d{9,11}$/.test(meetingId)) return fail('the Zoom meeting id must be 9 to 11 digits');

  const passcode = leadingMatch(url.searchParams.get('pwd'), /^[A-Za-z0-9]+(?:\.\d+)?/);
  const zoomToken = leadingMatch(url.searchParams.get('tk'), /^[\w.-]+/);
  const query = new URLSearchParams();
  if (passcode) query.set('pwd', passcode);
  if (zoomToken) query.set('tk', zoomToken);
  const qs = query.toString();
  return ok({
    platform: 'zoom',
    url: `https://${host}/j/${meetingId}${qs ? `?${qs}` : ''}`,
    meetingId,
    ...(passcode ? { passcode } : {}),
    ...(zoomToken ? { zoomToken } : {}),
  });
}

/** The leading part of `value` that `pattern` (anchored with `^`) accepts; trailing junk pasted after it is dropped. */
function leadingMatch(value: string | null, pattern: RegExp): string | undefined {
  return value === null ? undefined : pattern.exec(value)?.[0];
}

// ---------------------------------------------------------------------------------------------
// Identity and extraction

/**
 * A stable key for "the same meeting" (platform + normalised id, + passcode where it distinguishes meetings) used to deduplicate bots across calendars.
 *
 * - Meet: the code or nickname.
 * - Teams meetup-join: the thread id; channel meetings (not `19:meeting_…`) share the channel's
 *   thread, so the message id from the URL is added. Teams `/meet/<id>`: host + id (the passcode
 *   only authorises).
 * - Zoom: the id and the passcode (a personal meeting id is reused across meetings, its passcode
 *   set per meeting), without its `.N` version suffix. Regional/vanity hosts do not matter;
 *   ZoomGov is a separate cloud and is marked.
 */
export function meetingKey(m: MeetingRef): string {
  switch (m.platform) {
    case 'google_meet':
      return `google_meet:${m.meetingId.toLowerCase()}`;
    case 'microsoft_teams': {
      const url = safeUrl(m.url);
      if (!m.meetingId.startsWith('19:')) return `microsoft_teams:${url?.hostname ?? ''}/meet/${m.meetingId}`;
      if (m.meetingId.startsWith('19:meeting_')) return `microsoft_teams:${m.meetingId}`;
      const messageId = url ? pathSegments(url).at(-1) : undefined;
      return `microsoft_teams:${m.meetingId}/${messageId ?? ''}`;
    }
    case 'zoom': {
      const gov = safeUrl(m.url)?.hostname.endsWith('zoomgov.com') ? 'gov:' : '';
      const pwd = m.passcode ? `:${m.passcode.replace(/\.\d+$/, '')}` : '';
      return `zoom:${gov}${m.meetingId}${pwd}`;
    }
  }
}

function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

const KNOWN_HOSTS = String.raw`(?:[a-z0-9-]+\.)*(?:zoom\.us|zoom\.com|zoomgov\.com)|meet\.google\.com|(?:gov\.|dod\.)?teams\.microsoft\.(?:com|us)|teams\.live\.com|teams\.cloud\.microsoft`;
/**
 * Link candidates in text: anything after `http(s)://`, or a bare known meeting host followed by a
 * path (not inside a word, e-mail address or another, encoded URL). Candidates stop at whitespace,
 * quotes and angle brackets; a `{…}` group may hold quotes, for Teams' raw `context={"Tid":…}`.
 */
const LINK_CANDIDATE = new RegExp(
  String.raw`(?:\bhttps?:\/\/|(?<![\w.@\/%-])(?=(?:${KNOWN_HOSTS})\/))(?:[^\s<>"'\`{}]|\{[^\s<>{}]*\})+`,
  'gi',
);

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });
}

/** Finds meeting links in free text (calendar locations/descriptions, HTML bodies): returns the parsed meetings in order of appearance, de-duplicated by meetingKey. Must handle HTML (href attributes, entities like &amp;), SafeLinks, and text around links. */
export function findMeetingUrls(text: string): MeetingRef[] {
  if (typeof text !== 'string') return [];
  const found = new Map<string, MeetingRef>();
  for (const [candidate] of decodeHtmlEntities(text).matchAll(LINK_CANDIDATE)) {
    const parsed = parseMeetingUrl(candidate);
    if (!parsed.ok) continue;
    const key = meetingKey(parsed.meeting);
    if (!found.has(key)) found.set(key, parsed.meeting);
  }
  return [...found.values()];
}
