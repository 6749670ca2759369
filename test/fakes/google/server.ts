/**
 * A local fake of Google OAuth 2.0 and Google Calendar API v3 — the "minimum fake surface" of
 * calendar-marketplace research §1.6, speaking Google's wire format so the official clients
 * (`google-auth-library`, `googleapis`) talk to it unchanged through GOOGLE_OAUTH_BASE_URL and
 * GOOGLE_API_ROOT_URL:
 *
 * - `GET /o/oauth2/v2/auth` → 302 to the redirect URI with `code` and `state` (or `error`);
 *   `POST /token` (authorization_code with PKCE S256, refresh_token; `invalid_grant` once a
 *   grant is revoked); `POST /revoke`.
 * - `GET /calendar/v3/users/me/calendarList[/{id}]`; `GET /calendar/v3/calendars/{id}/events`
 *   (timeMin/timeMax, singleEvents expansion, paging with nextPageToken, nextSyncToken on the
 *   last page only, incremental listings that include cancellations as minimal
 *   `status:"cancelled"` bodies, 410 `fullSyncRequired` for invalidated tokens, 400 for
 *   parameters that cannot go with syncToken); `GET …/events/{eventId}`;
 *   `POST …/events/watch`; `POST /calendar/v3/channels/stop`.
 * - Push: every change to a watched calendar POSTs an `exists` notification with the
 *   `X-Goog-*` headers to each live channel (a `sync` one when a channel is created); the
 *   deliveries are recorded and can be replayed.
 *
 * Test hooks (plain methods): accounts, events (create, move, relink, cancel, recurring
 * series), revoking grants, expiring sync and access tokens, and the request log.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, deliver, parseForm, readBody, redirect, rfc3339InZone, s256, sendJson } from '../http.js';

export interface EventInput {
  id?: string;
  summary?: string;
  start: Date;
  end?: Date;
  /** All-day event on this date (`YYYY-MM-DD`) instead of a timed one. */
  allDay?: string;
  timeZone?: string;
  /** A Meet code: adds conferenceData (video entry point) and hangoutLink, like Calendar does. */
  meet?: string;
  /** A Zoom/Teams add-on link as a video entry point. */
  conferenceUri?: string;
  location?: string;
  description?: string;
  /** Emails; the calendar owner is added as the organizer's or a guest's attendee entry. */
  attendees?: { email: string; responseStatus?: 'needsAction' | 'declined' | 'tentative' | 'accepted'; resource?: boolean }[];
  /** Organizer email; defaults to the calendar owner. */
  organizer?: string;
  /** The owner's answer when they are not the organizer. */
  selfResponse?: 'needsAction' | 'declined' | 'tentative' | 'accepted';
  status?: 'confirmed' | 'tentative';
}

type Json = Record<string, any>;

interface StoredEvent {
  json: Json;
  /** The change number that last touched it. */
  seq: number;
  /** Recurring masters are listed only with singleEvents=false; instances only with true. */
  kind: 'single' | 'master' | 'instance';
}

interface Calendar {
  email: string;
  timeZone: string;
  events: Map<string, StoredEvent>;
  seq: number;
  /** Sync tokens of older generations answer 410. */
  generation: number;
}

interface Grant {
  email: string;
  scopes: string[];
  revoked: boolean;
}

interface Channel {
  id: string;
  resourceId: string;
  email: string;
  address: string;
  token: string | undefined;
  expiration: number;
  messageNumber: number;
  stopped: boolean;
}

export interface Delivery {
  channelId: string;
  state: string;
  headers: Record<string, string>;
  address: string;
  status: number;
  ms: number;
}

export interface RequestLog {
  method: string;
  path: string;
  query: Record<string, string>;
  at: number;
}

export interface GoogleFake {
  origin: string;
  clientId: string;
  clientSecret: string;
  /** GOOGLE_* settings that point Notula here. */
  env: Record<string, string>;
  addAccount(email: string, opts?: { timeZone?: string }): void;
  /** The account the next consent signs in as when the URL carries no login_hint; also what scopes the user grants, or a denial. */
  consent(opts: { email?: string; scopes?: string[]; deny?: boolean }): void;
  insertEvent(email: string, input: EventInput): Json;
  /** Changes an event (new start/end keep the duration unless `end` is given). */
  updateEvent(email: string, id: string, patch: Partial<EventInput>): Json;
  cancelEvent(email: string, id: string): void;
  /** A weekly series: the master and `count` instances (ids `{master}_{YYYYMMDDTHHMMSSZ}`). */
  insertRecurring(email: string, input: EventInput & { id: string }, count: number, intervalMs?: number): Json[];
  event(email: string, id: string): Json | undefined;
  /** Every refresh token and access token of the account stops working (refresh → invalid_grant). */
  revokeGrants(email: string): void;
  /** Sync tokens issued so far for the calendar answer 410 fullSyncRequired. */
  expireSyncTokens(email: string): void;
  /** Access tokens issued so far answer 401 (clients must refresh). */
  expireAccessTokens(): void;
  channels(email?: string): { id: string; resourceId: string; expiration: number; address: string; stopped: boolean }[];
  /** Change notifications are sent automatically; false holds them (tests send them with notify()). */
  autoNotify: boolean;
  /** Sends `state` to every live channel of the calendar now. */
  notify(email: string, state?: 'exists' | 'sync'): Promise<Delivery[]>;
  /** Sends a recorded delivery again, byte for byte. */
  replay(delivery: Delivery): Promise<Delivery>;
  deliveries: Delivery[];
  /** Resolves when every notification sent so far has been answered. */
  settled(): Promise<void>;
  requests: RequestLog[];
  close(): Promise<void>;
}

const PAGE_DEFAULT = 250;
const PAGE_MAX = 2500;
const ACCESS_TTL_S = 3599;
const CHANNEL_MAX_TTL_S = 30 * 24 * 3600;
const NOT_WITH_SYNC_TOKEN = ['iCalUID', 'orderBy', 'privateExtendedProperty', 'q', 'sharedExtendedProperty', 'timeMin', 'timeMax', 'updatedMin'];
const CALENDAR_SCOPES = ['calendar', 'calendar.readonly', 'calendar.events', 'calendar.events.readonly'].map((s) => `https://www.googleapis.com/auth/${s}`);

function googleError(code: number, reason: string, message: string, extra: Json = {}): Json {
  return { error: { errors: [{ domain: 'global', reason, message, ...extra }], code, message } };
}

const compactUtc = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

export async function startGoogleFake(opts: { port?: number } = {}): Promise<GoogleFake> {
  const clientId = `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`;
  const clientSecret = `GOCSPX-${randomBytes(12).toString('base64url')}`;
  const calendars = new Map<string, Calendar>();
  const codes = new Map<string, { email: string; redirectUri: string; challenge?: string; method?: string; scopes: string[]; offline: boolean; expires: number; used: boolean }>();
  const refreshTokens = new Map<string, Grant>();
  const accessTokens = new Map<string, { grant: Grant; expires: number }>();
  const channels = new Map<string, Channel>();
  const deliveries: Delivery[] = [];
  const requests: RequestLog[] = [];
  const pending = new Set<Promise<unknown>>();
  let nextConsent: { email?: string; scopes?: string[]; deny?: boolean } = {};
  let origin = '';

  const cal = (email: string): Calendar => {
    const c = calendars.get(email.toLowerCase());
    if (!c) throw new Error(`fake Google: no account ${email}`);
    return c;
  };

  // ------------------------------------------------------------------ events

  function eventJson(c: Calendar, input: EventInput, id: string, seq: number, extra: Json = {}): Json {
    const tz = input.timeZone ?? c.timeZone;
    const organizer = (input.organizer ?? c.email).toLowerCase();
    const ownerIsOrganizer = organizer === c.email;
    const attendees: Json[] = (input.attendees ?? []).map((a) => ({ email: a.email.toLowerCase(), responseStatus: a.responseStatus ?? 'needsAction', ...(a.resource ? { resource: true } : {}) }));
    if (attendees.length > 0 || !ownerIsOrganizer) {
      const self = attendees.find((a) => a.email === c.email);
      if (self) self.self = true;
      else attendees.unshift({ email: c.email, self: true, ...(ownerIsOrganizer ? { organizer: true } : {}), responseStatus: ownerIsOrganizer ? 'accepted' : (input.selfResponse ?? 'needsAction') });
      if (!ownerIsOrganizer && !attendees.some((a) => a.email === organizer)) attendees.push({ email: organizer, organizer: true, responseStatus: 'accepted' });
    }
    const now = new Date().toISOString();
    const end = input.end ?? new Date(input.start.getTime() + 30 * 60_000);
    const json: Json = {
      kind: 'calendar#event',
      etag: `"${seq}${randomBytes(3).toString('hex')}"`,
      id,
      status: input.status ?? 'confirmed',
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${c.email}`).toString('base64url')}`,
      created: now,
      updated: now,
      summary: input.summary ?? '(No title)',
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.location !== undefined ? { location: input.location } : {}),
      creator: { email: organizer, ...(ownerIsOrganizer ? { self: true } : {}) },
      organizer: { email: organizer, ...(ownerIsOrganizer ? { self: true } : {}) },
      start: input.allDay ? { date: input.allDay } : { dateTime: rfc3339InZone(input.start, tz), timeZone: tz },
      // All-day ends are exclusive: the next day.
      end: input.allDay ? { date: new Date(Date.parse(`${input.allDay}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10) } : { dateTime: rfc3339InZone(end, tz), timeZone: tz },
      iCalUID: `${id.split('_')[0]}@google.com`,
      sequence: 0,
      ...(attendees.length ? { attendees } : {}),
      reminders: { useDefault: true },
      eventType: 'default',
      ...extra,
    };
    if (input.meet) {
      json.hangoutLink = `https://meet.google.com/${input.meet}`;
      json.conferenceData = {
        entryPoints: [
          { entryPointType: 'video', uri: `https://meet.google.com/${input.meet}`, label: `meet.google.com/${input.meet}` },
          { entryPointType: 'more', uri: `https://tel.meet/${input.meet}?pin=1234567890`, pin: '1234567890' },
          { entryPointType: 'phone', uri: 'tel:+1-555-0100', label: '+1 555-0100', pin: '123456789', regionCode: 'US' },
        ],
        conferenceSolution: { key: { type: 'hangoutsMeet' }, name: 'Google Meet', iconUri: 'https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png' },
        conferenceId: input.meet,
      };
    } else if (input.conferenceUri) {
      json.conferenceData = {
        entryPoints: [{ entryPointType: 'video', uri: input.conferenceUri, label: input.conferenceUri }],
        conferenceSolution: { key: { type: 'addOn' }, name: 'Zoom Meeting' },
        conferenceId: randomBytes(5).toString('hex'),
      };
    }
    return json;
  }

  /** Inputs are kept so updates can re-render the event. */
  const inputs = new Map<string, EventInput>();
  const inputKey = (email: string, id: string) => `${email}\u0000${id}`;

  function touch(c: Calendar, id: string, json: Json, kind: StoredEvent['kind']) {
    c.seq++;
    const prior = c.events.get(id);
    if (prior) {
      json.created = prior.json.created;
      json.sequence = (prior.json.sequence ?? 0) + 1;
    }
    json.updated = new Date().toISOString();
    c.events.set(id, { json, seq: c.seq, kind });
  }

  function changed(c: Calendar) {
    if (fake.autoNotify) void fake.notify(c.email, 'exists');
  }

  // ------------------------------------------------------------------ listing

  function listEvents(c: Calendar, q: URLSearchParams): { status: number; body: Json } {
    for (const name of ['maxResults', 'timeMin', 'timeMax']) if (q.getAll(name).length > 1) return { status: 400, body: googleError(400, 'invalidParameter', `Invalid value for: ${name}`) };
    const syncToken = q.get('syncToken');
    if (syncToken) {
      const bad = NOT_WITH_SYNC_TOKEN.find((p) => q.has(p));
      if (bad) return { status: 400, body: googleError(400, 'invalid', `The parameter ${bad} cannot be used with syncToken`, { locationType: 'parameter', location: bad }) };
    }
    const singleEvents = q.get('singleEvents') === 'true';
    if (q.get('orderBy') === 'startTime' && !singleEvents) return { status: 400, body: googleError(400, 'badRequest', 'The requested ordering is not available for the particular query.') };
    const maxResults = Math.min(PAGE_MAX, Math.max(1, Number(q.get('maxResults') ?? PAGE_DEFAULT) || PAGE_DEFAULT));
    const timeMin = q.get('timeMin') ? Date.parse(q.get('timeMin')!) : undefined;
    const timeMax = q.get('timeMax') ? Date.parse(q.get('timeMax')!) : undefined;
    if (Number.isNaN(timeMin) || Number.isNaN(timeMax)) return { status: 400, body: googleError(400, 'badRequest', 'Bad Request') };
    if (timeMin !== undefined && timeMax !== undefined && timeMin >= timeMax) return { status: 400, body: googleError(400, 'timeRangeEmpty', 'The specified time range is empty.', { locationType: 'parameter', location: 'timeMax' }) };

    let sinceSeq: number | undefined;
    if (syncToken) {
      let token: { g?: number; s?: number; e?: string } = {};
      try {
        token = JSON.parse(Buffer.from(syncToken, 'base64url').toString('utf8'));
      } catch {
        token = {};
      }
      if (token.e !== c.email || token.g !== c.generation || typeof token.s !== 'number') {
        return { status: 410, body: googleError(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.', { locationType: 'parameter', location: 'syncToken' }) };
      }
      sinceSeq = token.s;
    }

    // A page token pins the listing's snapshot and position.
    let offset = 0;
    let snapshot = c.seq;
    const pageToken = q.get('pageToken');
    if (pageToken) {
      try {
        const t = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8')) as { o: number; n: number };
        offset = t.o;
        snapshot = t.n;
      } catch {
        return { status: 400, body: googleError(400, 'invalid', 'Invalid page token') };
      }
    }
    const showDeleted = q.get('showDeleted') === 'true' || sinceSeq !== undefined;
    const all = [...c.events.values()]
      .filter((e) => (singleEvents ? e.kind !== 'master' : e.kind !== 'instance' || e.json.status === 'cancelled'))
      .filter((e) => (sinceSeq !== undefined ? e.seq > sinceSeq && e.seq <= snapshot : true))
      .filter((e) => showDeleted || e.json.status !== 'cancelled')
      .filter((e) => {
        if (sinceSeq !== undefined || e.json.status === 'cancelled') return true;
        const start = Date.parse(e.json.start?.dateTime ?? `${e.json.start?.date}T00:00:00Z`);
        const end = Date.parse(e.json.end?.dateTime ?? `${e.json.end?.date}T00:00:00Z`);
        return (timeMin === undefined || end > timeMin) && (timeMax === undefined || start < timeMax);
      })
      .sort((a, b) => a.seq - b.seq || String(a.json.id).localeCompare(String(b.json.id)));
    const page = all.slice(offset, offset + maxResults).map((e) => (e.json.status === 'cancelled' ? cancelledBody(e.json) : e.json));
    const last = offset + maxResults >= all.length;
    const body: Json = {
      kind: 'calendar#events',
      etag: `"p${snapshot}"`,
      summary: c.email,
      description: '',
      updated: new Date().toISOString(),
      timeZone: c.timeZone,
      accessRole: 'owner',
      defaultReminders: [{ method: 'popup', minutes: 10 }],
      items: page,
    };
    if (last) body.nextSyncToken = Buffer.from(JSON.stringify({ e: c.email, g: c.generation, s: snapshot })).toString('base64url');
    else body.nextPageToken = Buffer.from(JSON.stringify({ o: offset + maxResults, n: snapshot })).toString('base64url');
    return { status: 200, body };
  }

  /** Deleted or cancelled events come back with a minimal body. */
  function cancelledBody(json: Json): Json {
    return {
      kind: 'calendar#event',
      etag: json.etag,
      id: json.id,
      status: 'cancelled',
      ...(json.recurringEventId ? { recurringEventId: json.recurringEventId, originalStartTime: json.originalStartTime } : {}),
    };
  }

  // ------------------------------------------------------------------ HTTP

  function authenticate(req: http.IncomingMessage, res: http.ServerResponse): Grant | undefined {
    const token = bearer(req);
    const entry = token ? accessTokens.get(token) : undefined;
    if (!entry || entry.expires < Date.now() || entry.grant.revoked) {
      sendJson(res, 401, googleError(401, 'authError', 'Invalid Credentials', { locationType: 'header', location: 'Authorization' }), { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
      return undefined;
    }
    if (!entry.grant.scopes.some((s) => CALENDAR_SCOPES.includes(s))) {
      sendJson(res, 403, {
        error: {
          code: 403,
          message: 'Request had insufficient authentication scopes.',
          errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }],
          status: 'PERMISSION_DENIED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com' }],
        },
      });
      return undefined;
    }
    return entry.grant;
  }

  function calendarFor(grant: Grant, calendarId: string, res: http.ServerResponse): Calendar | undefined {
    const id = decodeURIComponent(calendarId).toLowerCase();
    if (id !== 'primary' && id !== grant.email) {
      sendJson(res, 404, googleError(404, 'notFound', 'Not Found'));
      return undefined;
    }
    return cal(grant.email);
  }

  function issueAccess(grant: Grant): string {
    const token = `ya29.${randomBytes(24).toString('base64url')}`;
    accessTokens.set(token, { grant, expires: Date.now() + ACCESS_TTL_S * 1000 });
    return token;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', origin);
    const path = url.pathname;
    requests.push({ method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), at: Date.now() });

    // OAuth: consent
    if (req.method === 'GET' && path === '/o/oauth2/v2/auth') {
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri');
      if (q.get('client_id') !== clientId || !redirectUri) return sendJson(res, 400, { error: 'invalid_request', error_description: 'Missing required parameter: client_id or redirect_uri' });
      if (q.get('response_type') !== 'code') return sendJson(res, 400, { error: 'unsupported_response_type' });
      const target = new URL(redirectUri);
      const state = q.get('state');
      const choice = nextConsent;
      nextConsent = {};
      if (choice.deny) {
        target.searchParams.set('error', 'access_denied');
        if (state) target.searchParams.set('state', state);
        return redirect(res, target.toString());
      }
      const email = (q.get('login_hint') ?? choice.email ?? [...calendars.keys()][0] ?? '').toLowerCase();
      if (!calendars.has(email)) return sendJson(res, 400, { error: 'invalid_request', error_description: `no such account ${email}` });
      const asked = (q.get('scope') ?? '').split(' ').filter(Boolean);
      const scopes = choice.scopes ?? asked;
      const code = `4/0A${randomBytes(24).toString('base64url')}`;
      codes.set(code, {
        email,
        redirectUri,
        challenge: q.get('code_challenge') ?? undefined,
        method: q.get('code_challenge_method') ?? undefined,
        scopes,
        offline: q.get('access_type') === 'offline',
        expires: Date.now() + 5 * 60_000,
        used: false,
      });
      target.searchParams.set('code', code);
      target.searchParams.set('scope', scopes.join(' '));
      if (state) target.searchParams.set('state', state);
      return redirect(res, target.toString());
    }

    // OAuth: token
    if (req.method === 'POST' && path === '/token') {
      const form = parseForm(await readBody(req), req.headers.authorization);
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) return sendJson(res, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
      const grantType = form.get('grant_type');
      if (grantType === 'authorization_code') {
        const code = codes.get(form.get('code') ?? '');
        if (!code || code.used || code.expires < Date.now()) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Malformed auth code.' });
        code.used = true;
        if (form.get('redirect_uri') !== code.redirectUri) return sendJson(res, 400, { error: 'redirect_uri_mismatch', error_description: 'Bad Request' });
        if (code.challenge) {
          const verifier = form.get('code_verifier');
          if (!verifier) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Missing code verifier.' });
          const computed = code.method === 'S256' ? s256(verifier) : verifier;
          if (computed !== code.challenge) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid code verifier.' });
        }
        const grant: Grant = { email: code.email, scopes: code.scopes, revoked: false };
        const body: Json = { access_token: issueAccess(grant), expires_in: ACCESS_TTL_S, scope: code.scopes.join(' '), token_type: 'Bearer' };
        if (code.offline) {
          const rt = `1//0${randomBytes(30).toString('base64url')}`;
          refreshTokens.set(rt, grant);
          body.refresh_token = rt;
        }
        return sendJson(res, 200, body);
      }
      if (grantType === 'refresh_token') {
        const grant = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!grant || grant.revoked) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
        return sendJson(res, 200, { access_token: issueAccess(grant), expires_in: ACCESS_TTL_S, scope: grant.scopes.join(' '), token_type: 'Bearer' });
      }
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${grantType}` });
    }

    // OAuth: revoke
    if (req.method === 'POST' && path === '/revoke') {
      const body = await readBody(req);
      const token = url.searchParams.get('token') ?? new URLSearchParams(body).get('token') ?? '';
      const grant = refreshTokens.get(token) ?? accessTokens.get(token)?.grant;
      if (!grant) return sendJson(res, 400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
      grant.revoked = true;
      return sendJson(res, 200, {});
    }

    // Calendar API
    const api = /^\/calendar\/v3\/(.+)$/.exec(path)?.[1];
    if (api === undefined) return sendJson(res, 404, googleError(404, 'notFound', 'Not Found'));

    if (req.method === 'POST' && api === 'channels/stop') {
      const grant = authenticate(req, res);
      if (!grant) return;
      const body = JSON.parse((await readBody(req)) || '{}') as Json;
      const channel = channels.get(body.id);
      if (!channel || channel.resourceId !== body.resourceId || channel.email !== grant.email || channel.stopped) {
        return sendJson(res, 404, googleError(404, 'notFound', `Channel '${body.id}' not found for project '123456789'`));
      }
      channel.stopped = true;
      res.writeHead(204);
      return res.end();
    }

    const grant = authenticate(req, res);
    if (!grant) return;

    const list = /^users\/me\/calendarList(?:\/([^/]+))?$/.exec(api);
    if (req.method === 'GET' && list) {
      const c = cal(grant.email);
      const entry = { kind: 'calendar#calendarListEntry', etag: '"1"', id: c.email, summary: c.email, timeZone: c.timeZone, accessRole: 'owner', primary: true, selected: true };
      if (list[1]) {
        const id = decodeURIComponent(list[1]).toLowerCase();
        if (id !== 'primary' && id !== c.email) return sendJson(res, 404, googleError(404, 'notFound', 'Not Found'));
        return sendJson(res, 200, entry);
      }
      return sendJson(res, 200, { kind: 'calendar#calendarList', etag: '"1"', items: [entry] });
    }

    const ev = /^calendars\/([^/]+)\/events(?:\/([^/]+))?$/.exec(api);
    if (ev) {
      const c = calendarFor(grant, ev[1]!, res);
      if (!c) return;
      const sub = ev[2] ? decodeURIComponent(ev[2]) : undefined;
      if (req.method === 'GET' && sub === undefined) {
        const r = listEvents(c, url.searchParams);
        return sendJson(res, r.status, r.body);
      }
      if (req.method === 'POST' && sub === 'watch') {
        const body = JSON.parse((await readBody(req)) || '{}') as Json;
        if (typeof body.id !== 'string' || !/^[A-Za-z0-9\-_+/=]{1,64}$/.test(body.id)) return sendJson(res, 400, googleError(400, 'invalid', 'Invalid channel id'));
        if (body.type !== 'web_hook' && body.type !== 'webhook') return sendJson(res, 400, googleError(400, 'invalid', 'Invalid channel type'));
        let address: URL;
        try {
          address = new URL(String(body.address));
        } catch {
          return sendJson(res, 400, googleError(400, 'invalid', 'Invalid address'));
        }
        // Google wants https; this fake also takes loopback http (research §1.4).
        if (address.protocol !== 'https:' && !(address.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(address.hostname))) {
          return sendJson(res, 400, googleError(400, 'push.webhookUrlNotHttps', 'WebHook callback must be HTTPS: ' + address));
        }
        if (channels.has(body.id)) return sendJson(res, 400, googleError(400, 'channelIdNotUnique', 'Channel id not unique'));
        if (body.token !== undefined && (typeof body.token !== 'string' || body.token.length > 256)) return sendJson(res, 400, googleError(400, 'invalid', 'Invalid token'));
        const ttl = Math.min(CHANNEL_MAX_TTL_S, Number(body.params?.ttl ?? 604800) || 604800);
        const channel: Channel = { id: body.id, resourceId: randomBytes(14).toString('base64url'), email: c.email, address: address.toString(), token: body.token, expiration: Date.now() + ttl * 1000, messageNumber: 0, stopped: false };
        channels.set(channel.id, channel);
        sendJson(res, 200, {
          kind: 'api#channel',
          id: channel.id,
          resourceId: channel.resourceId,
          resourceUri: `${origin}/calendar/v3/calendars/${encodeURIComponent(c.email)}/events?alt=json`,
          ...(channel.token !== undefined ? { token: channel.token } : {}),
          expiration: String(channel.expiration),
        });
        // Google announces every new channel with a `sync` message.
        setTimeout(() => void send(channel, 'sync'), 5);
        return;
      }
      if (req.method === 'GET' && sub !== undefined) {
        const stored = c.events.get(sub);
        if (!stored) return sendJson(res, 404, googleError(404, 'notFound', 'Not Found'));
        return sendJson(res, 200, stored.json.status === 'cancelled' ? cancelledBody(stored.json) : stored.json);
      }
    }
    return sendJson(res, 404, googleError(404, 'notFound', 'Not Found'));
  }

  // ------------------------------------------------------------------ push

  function headersFor(channel: Channel, state: string): Record<string, string> {
    channel.messageNumber++;
    return {
      'x-goog-channel-id': channel.id,
      ...(channel.token !== undefined ? { 'x-goog-channel-token': channel.token } : {}),
      'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-uri': `${origin}/calendar/v3/calendars/${encodeURIComponent(channel.email)}/events?alt=json`,
      'x-goog-resource-state': state,
      'x-goog-message-number': String(channel.messageNumber),
      'content-length': '0',
    };
  }

  async function post(channelId: string, state: string, address: string, headers: Record<string, string>): Promise<Delivery> {
    const r = await deliver(address, { method: 'POST', headers, body: '' });
    const d: Delivery = { channelId, state, headers, address, status: r.status, ms: r.ms };
    deliveries.push(d);
    return d;
  }

  function track<T>(p: Promise<T>): Promise<T> {
    pending.add(p);
    void p.finally(() => pending.delete(p));
    return p;
  }

  function send(channel: Channel, state: string): Promise<Delivery> {
    return track(post(channel.id, state, channel.address, headersFor(channel, state)));
  }

  // ------------------------------------------------------------------ server

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, googleError(500, 'backendError', String((err as Error).message)));
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: GoogleFake = {
    origin,
    clientId,
    clientSecret,
    env: { GOOGLE_CLIENT_ID: clientId, GOOGLE_CLIENT_SECRET: clientSecret, GOOGLE_API_ROOT_URL: `${origin}/`, GOOGLE_OAUTH_BASE_URL: origin },
    autoNotify: true,
    deliveries,
    requests,
    addAccount(email, o = {}) {
      calendars.set(email.toLowerCase(), { email: email.toLowerCase(), timeZone: o.timeZone ?? 'Europe/Berlin', events: new Map(), seq: 0, generation: 1 });
    },
    consent(o) {
      nextConsent = o;
    },
    insertEvent(email, input) {
      const c = cal(email);
      const id = input.id ?? randomBytes(13).toString('hex');
      inputs.set(inputKey(c.email, id), input);
      const json = eventJson(c, input, id, c.seq + 1);
      touch(c, id, json, 'single');
      changed(c);
      return json;
    },
    updateEvent(email, id, patch) {
      const c = cal(email);
      const stored = c.events.get(id);
      const prior = inputs.get(inputKey(c.email, id));
      if (!stored || !prior) throw new Error(`fake Google: no event ${id}`);
      const duration = (prior.end ?? new Date(prior.start.getTime() + 30 * 60_000)).getTime() - prior.start.getTime();
      const next: EventInput = { ...prior, ...patch };
      if (patch.start && !patch.end) next.end = new Date(patch.start.getTime() + duration);
      inputs.set(inputKey(c.email, id), next);
      const extra = stored.kind === 'instance' ? { recurringEventId: stored.json.recurringEventId, originalStartTime: stored.json.originalStartTime } : {};
      const json = eventJson(c, next, id, c.seq + 1, extra);
      touch(c, id, json, stored.kind);
      changed(c);
      return json;
    },
    cancelEvent(email, id) {
      const c = cal(email);
      const stored = c.events.get(id);
      if (!stored) throw new Error(`fake Google: no event ${id}`);
      touch(c, id, { ...stored.json, status: 'cancelled' }, stored.kind);
      changed(c);
    },
    insertRecurring(email, input, count, intervalMs = 7 * 24 * 3600_000) {
      const c = cal(email);
      const tz = input.timeZone ?? c.timeZone;
      const master = eventJson(c, input, input.id, c.seq + 1, { recurrence: [`RRULE:FREQ=WEEKLY;COUNT=${count}`] });
      inputs.set(inputKey(c.email, input.id), input);
      touch(c, input.id, master, 'master');
      const out: Json[] = [master];
      for (let i = 0; i < count; i++) {
        const start = new Date(input.start.getTime() + i * intervalMs);
        const end = new Date((input.end ?? new Date(input.start.getTime() + 30 * 60_000)).getTime() + i * intervalMs);
        const id = `${input.id}_${compactUtc(start)}`;
        const inst: EventInput = { ...input, id, start, end };
        inputs.set(inputKey(c.email, id), inst);
        const json = eventJson(c, inst, id, c.seq + 1, { recurringEventId: input.id, originalStartTime: { dateTime: rfc3339InZone(start, tz), timeZone: tz } });
        json.iCalUID = master.iCalUID;
        touch(c, id, json, 'instance');
        out.push(json);
      }
      changed(c);
      return out;
    },
    event(email, id) {
      return cal(email).events.get(id)?.json;
    },
    revokeGrants(email) {
      for (const g of [...refreshTokens.values(), ...[...accessTokens.values()].map((a) => a.grant)]) if (g.email === email.toLowerCase()) g.revoked = true;
    },
    expireSyncTokens(email) {
      cal(email).generation++;
    },
    expireAccessTokens() {
      for (const a of accessTokens.values()) a.expires = 0;
    },
    channels(email) {
      return [...channels.values()]
        .filter((ch) => !email || ch.email === email.toLowerCase())
        .map((ch) => ({ id: ch.id, resourceId: ch.resourceId, expiration: ch.expiration, address: ch.address, stopped: ch.stopped }));
    },
    async notify(email, state = 'exists') {
      const live = [...channels.values()].filter((ch) => ch.email === email.toLowerCase() && !ch.stopped && ch.expiration > Date.now());
      return Promise.all(live.map((ch) => send(ch, state)));
    },
    replay(d) {
      return track(post(d.channelId, d.state, d.address, d.headers));
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      await fake.settled();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
  return fake;
}
