/**
 * A local fake of the Microsoft identity platform (v2.0 authorize/token) and Microsoft Graph
 * v1.0 — calendar-marketplace research §2 — over HTTPS (the official Graph client sends
 * credentials only to https hosts), so `@microsoft/microsoft-graph-client` talks to it
 * unchanged through MICROSOFT_GRAPH_BASE_URL, and Notula's token calls through
 * MICROSOFT_LOGIN_BASE_URL:
 *
 * - `GET /{tenant}/oauth2/v2.0/authorize` → 302 with `code`/`state` (response_mode=query);
 *   `POST /{tenant}/oauth2/v2.0/token`: authorization_code with PKCE S256, refresh_token with
 *   rotation (a used refresh token is refused: AADSTS70000), AADSTS errors otherwise.
 * - `GET /v1.0/me`; `GET /v1.0/me/calendarView/delta` (startDateTime/endDateTime required on the
 *   first call, `Prefer: odata.maxpagesize` paging through `@odata.nextLink` to
 *   `@odata.deltaLink`, `@removed` for deletions, `isCancelled` organizer copies, times in UTC
 *   only with `Prefer: outlook.timezone="UTC"` — naive local times otherwise; 410
 *   SyncStateNotFound once tokens are expired).
 * - `POST /v1.0/subscriptions` (with the validation handshake against notificationUrl and
 *   lifecycleNotificationUrl, answered as text/plain within 10 s, before the 201);
 *   `PATCH`/`DELETE /v1.0/subscriptions/{id}`; `POST …/reauthorize`.
 * - Change notifications `{"value":[{subscriptionId, clientState, changeType, resource,
 *   resourceData}]}` to every live subscription on each change; lifecycle notifications on demand.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import https from 'node:https';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, deliver, parseForm, readBody, redirect, s256, sendJson, wallClock } from '../http.js';

type Json = Record<string, any>;

export interface GraphEventInput {
  id?: string;
  subject?: string;
  start: Date;
  end?: Date;
  /** A Windows zone name as Outlook stores it. */
  timeZone?: 'W. Europe Standard Time' | 'Pacific Standard Time' | 'UTC';
  /** A Teams join URL: makes it an online meeting (onlineMeeting.joinUrl and a body with the link). */
  teamsJoinUrl?: string;
  /** Body HTML (links may be wrapped in SafeLinks, as Defender does in mail). */
  bodyHtml?: string;
  location?: string;
  attendees?: { email: string; response?: 'none' | 'accepted' | 'tentativelyAccepted' | 'declined' | 'notResponded'; type?: 'required' | 'optional' | 'resource' }[];
  organizer?: string;
  responseStatus?: 'none' | 'organizer' | 'accepted' | 'tentativelyAccepted' | 'declined' | 'notResponded';
  isAllDay?: boolean;
  seriesMasterId?: string;
}

interface StoredEvent {
  json: Json;
  seq: number;
  removed: boolean;
  input: GraphEventInput;
}

interface Account {
  email: string;
  id: string;
  name: string;
  events: Map<string, StoredEvent>;
  seq: number;
  generation: number;
}

interface Subscription {
  id: string;
  email: string;
  json: Json;
  notificationUrl: string;
  lifecycleNotificationUrl: string | undefined;
  clientState: string | undefined;
  expiration: number;
  deleted: boolean;
}

export interface GraphDelivery {
  subscriptionId: string;
  url: string;
  body: string;
  status: number;
  ms: number;
}

export interface MicrosoftFake {
  origin: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  env: Record<string, string>;
  addAccount(email: string, opts?: { name?: string }): void;
  consent(opts: { email?: string; scopes?: string[]; deny?: boolean }): void;
  insertEvent(email: string, input: GraphEventInput): Json;
  updateEvent(email: string, id: string, patch: Partial<GraphEventInput>): Json;
  /** The organizer cancels: the organizer's copy stays with isCancelled true. */
  cancelEvent(email: string, id: string): void;
  /** Deleted from the calendar (an attendee's copy of a cancelled meeting): `@removed` in delta. */
  deleteEvent(email: string, id: string): void;
  /** A weekly series' occurrences (type occurrence, seriesMasterId). */
  insertSeries(email: string, input: GraphEventInput & { id: string }, count: number): Json[];
  revokeGrants(email: string): void;
  /** Delta tokens issued so far answer 410. */
  expireDeltaTokens(email: string): void;
  subscriptions(email?: string): { id: string; expiration: number; deleted: boolean; notificationUrl: string }[];
  autoNotify: boolean;
  lifecycle(subscriptionId: string, event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): Promise<GraphDelivery>;
  /** Forgets a subscription on Graph's side (renewal then answers 404). */
  dropSubscription(subscriptionId: string): void;
  replay(d: GraphDelivery): Promise<GraphDelivery>;
  deliveries: GraphDelivery[];
  /** Validation handshakes the fake made, with what the endpoint answered. */
  validations: { url: string; token: string; status: number; body: string; contentType: string | null; ms: number }[];
  requests: { method: string; path: string; query: Record<string, string>; prefer: string | undefined; at: number }[];
  /** How many refresh grants were served (rotation tests). */
  refreshes: number;
  settled(): Promise<void>;
  close(): Promise<void>;
}

const MAX_SUBSCRIPTION_MIN = 10_080;
const WINDOWS_ZONES: Record<string, string> = { 'W. Europe Standard Time': 'Europe/Berlin', 'Pacific Standard Time': 'America/Los_Angeles', UTC: 'UTC' };

function graphError(code: string, message: string): Json {
  return { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } };
}

function aadError(error: string, code: number, description: string): Json {
  return {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  };
}

/** `2026-03-03T09:00:00.0000000` in `zone` (Graph's naive format). */
function graphTime(at: Date, zone: string): string {
  const p = wallClock(at, WINDOWS_ZONES[zone] ?? 'UTC');
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}.0000000`;
}

const graphId = () => `AAMkAG${randomBytes(30).toString('base64url')}=`;

export async function startMicrosoftFake(opts: { tls: { cert: string; key: string } }): Promise<MicrosoftFake> {
  const clientId = randomUUID();
  const clientSecret = `${randomBytes(3).toString('hex')}~${randomBytes(24).toString('base64url')}`;
  const tenantId = randomUUID();
  const accounts = new Map<string, Account>();
  const codes = new Map<string, { email: string; redirectUri: string; challenge?: string; method?: string; scopes: string[]; expires: number; used: boolean }>();
  const refreshTokens = new Map<string, { email: string; scopes: string[]; used: boolean; revoked: boolean }>();
  const accessTokens = new Map<string, { email: string; expires: number; revoked: boolean }>();
  const subscriptions = new Map<string, Subscription>();
  const deliveries: GraphDelivery[] = [];
  const validations: MicrosoftFake['validations'] = [];
  const requests: MicrosoftFake['requests'] = [];
  const pending = new Set<Promise<unknown>>();
  let nextConsent: { email?: string; scopes?: string[]; deny?: boolean } = {};
  let origin = '';

  const acct = (email: string) => {
    const a = accounts.get(email.toLowerCase());
    if (!a) throw new Error(`fake Graph: no account ${email}`);
    return a;
  };

  function eventJson(a: Account, input: GraphEventInput, id: string, extra: Json = {}): Json {
    const zone = input.timeZone ?? 'W. Europe Standard Time';
    const organizer = (input.organizer ?? a.email).toLowerCase();
    const isOrganizer = organizer === a.email;
    const end = input.end ?? new Date(input.start.getTime() + 30 * 60_000);
    const body = input.bodyHtml ?? (input.teamsJoinUrl ? `<html><body><div>________________________________________________________________________________</div><div><span style="font-size:24px">Microsoft Teams meeting</span></div><div><a href="${input.teamsJoinUrl.replace(/&/g, '&amp;')}" target="_blank">Join the meeting now</a></div><div>Meeting ID: 123 456 789 012<br>Passcode: aB3cD4</div></body></html>` : '<html><body></body></html>');
    const now = new Date().toISOString();
    return {
      '@odata.etag': `W/"${randomBytes(12).toString('base64')}"`,
      id,
      createdDateTime: now,
      lastModifiedDateTime: now,
      changeKey: randomBytes(12).toString('base64'),
      categories: [],
      transactionId: null,
      originalStartTimeZone: zone,
      originalEndTimeZone: zone,
      iCalUId: `040000008200E00074C5B7101A82E008${randomBytes(16).toString('hex').toUpperCase()}`,
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      hasAttachments: false,
      subject: input.subject ?? '',
      bodyPreview: body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 255),
      importance: 'normal',
      sensitivity: 'normal',
      isAllDay: input.isAllDay ?? false,
      isCancelled: false,
      isOrganizer,
      responseRequested: true,
      seriesMasterId: input.seriesMasterId ?? null,
      showAs: 'busy',
      type: input.seriesMasterId ? 'occurrence' : 'singleInstance',
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
      onlineMeetingUrl: null,
      isOnlineMeeting: Boolean(input.teamsJoinUrl),
      onlineMeetingProvider: input.teamsJoinUrl ? 'teamsForBusiness' : 'unknown',
      allowNewTimeProposals: true,
      isDraft: false,
      hideAttendees: false,
      responseStatus: { response: input.responseStatus ?? (isOrganizer ? 'organizer' : 'none'), time: '0001-01-01T00:00:00Z' },
      body: { contentType: 'html', content: body },
      // Times are stored in UTC; they are rendered per request (Prefer: outlook.timezone).
      start: { at: input.start.toISOString(), zone },
      end: { at: end.toISOString(), zone },
      location: { displayName: input.location ?? '', locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} },
      locations: input.location ? [{ displayName: input.location, locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} }] : [],
      recurrence: null,
      attendees: (input.attendees ?? []).map((x) => ({
        type: x.type ?? 'required',
        status: { response: x.response ?? 'none', time: '0001-01-01T00:00:00Z' },
        emailAddress: { name: x.email.split('@')[0], address: x.email },
      })),
      organizer: { emailAddress: { name: organizer.split('@')[0], address: organizer } },
      onlineMeeting: input.teamsJoinUrl ? { joinUrl: input.teamsJoinUrl } : null,
      ...extra,
    };
  }

  /** The event as Graph returns it: times in UTC with the Prefer header, else naive in the event's zone. */
  function render(json: Json, utc: boolean): Json {
    const out = { ...json };
    for (const k of ['start', 'end'] as const) {
      const t = json[k] as { at: string; zone: string };
      out[k] = utc ? { dateTime: graphTime(new Date(t.at), 'UTC'), timeZone: 'UTC' } : { dateTime: graphTime(new Date(t.at), t.zone), timeZone: t.zone };
    }
    return out;
  }

  function touch(a: Account, id: string, stored: Omit<StoredEvent, 'seq'>) {
    a.seq++;
    const prior = a.events.get(id);
    if (prior) stored.json.createdDateTime = prior.json.createdDateTime;
    stored.json.lastModifiedDateTime = new Date().toISOString();
    a.events.set(id, { ...stored, seq: a.seq });
  }

  function changed(a: Account, id: string, changeType: 'created' | 'updated' | 'deleted') {
    if (!fake.autoNotify) return;
    for (const s of subscriptions.values()) {
      if (s.email !== a.email || s.deleted || s.expiration < Date.now()) continue;
      const body = JSON.stringify({
        value: [
          {
            subscriptionId: s.id,
            subscriptionExpirationDateTime: new Date(s.expiration).toISOString(),
            changeType,
            resource: `Users/${a.id}/Events/${id}`,
            resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': `Users/${a.id}/Events/${id}`, '@odata.etag': `W/"${randomBytes(8).toString('base64')}"`, id },
            ...(s.clientState !== undefined ? { clientState: s.clientState } : {}),
            tenantId,
          },
        ],
      });
      void track(post(s.id, s.notificationUrl, body));
    }
  }

  async function post(subscriptionId: string, url: string, body: string): Promise<GraphDelivery> {
    const r = await deliver(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body });
    const d = { subscriptionId, url, body, status: r.status, ms: r.ms };
    deliveries.push(d);
    return d;
  }

  function track<T>(p: Promise<T>): Promise<T> {
    pending.add(p);
    void p.finally(() => pending.delete(p));
    return p;
  }

  /** Graph's handshake: POST ?validationToken=…, expect 200 text/plain with the token within 10 s. */
  async function validate(url: string): Promise<boolean> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = new URL(url);
    target.searchParams.set('validationToken', token);
    const r = await deliver(target.toString(), { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '' });
    validations.push({ url, token, status: r.status, body: r.body, contentType: r.contentType, ms: r.ms });
    return r.status === 200 && r.body === token && /^text\/plain/i.test(r.contentType ?? '') && r.ms < 10_000;
  }

  function authenticate(req: http.IncomingMessage, res: http.ServerResponse): Account | undefined {
    const token = bearer(req);
    const entry = token ? accessTokens.get(token) : undefined;
    if (!entry || entry.revoked || entry.expires < Date.now()) {
      sendJson(res, 401, graphError('InvalidAuthenticationToken', entry ? 'Lifetime validation failed, the token is expired.' : 'IDX14100: JWT is not well formed.'));
      return undefined;
    }
    return acct(entry.email);
  }

  function issue(email: string, scopes: string[]) {
    const access = `eyJ0eXAiOiJKV1Qi.${randomBytes(32).toString('base64url')}`;
    accessTokens.set(access, { email, expires: Date.now() + 3599_000, revoked: false });
    const refresh = `0.A${randomBytes(40).toString('base64url')}`;
    refreshTokens.set(refresh, { email, scopes, used: false, revoked: false });
    return {
      token_type: 'Bearer',
      scope: scopes.filter((s) => s !== 'offline_access').join(' '),
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: access,
      refresh_token: refresh,
      id_token: `eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ aud: clientId, tid: tenantId, email, preferred_username: email })).toString('base64url')}.`,
    };
  }

  function delta(a: Account, url: URL, prefer: string | undefined): { status: number; body: Json; headers?: Record<string, string> } {
    const utc = /outlook\.timezone\s*=\s*"UTC"/i.test(prefer ?? '');
    const pageSize = Math.min(1000, Math.max(1, Number(/odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer ?? '')?.[1] ?? 10)));
    const skip = url.searchParams.get('$skiptoken');
    const deltaToken = url.searchParams.get('$deltatoken');
    for (const bad of ['$select', '$filter', '$orderby', '$expand', '$search']) {
      if (url.searchParams.has(bad)) return { status: 400, body: graphError('ErrorInvalidUrlQuery', `The following parameters are not supported with change tracking over the 'CalendarView' resource: '${bad}'.`) };
    }
    type State = { e: string; g: number; since: number | null; snap: number; off: number; start: string; end: string };
    let state: State;
    const decode = (t: string) => JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as State;
    try {
      if (skip) state = decode(skip);
      else if (deltaToken) {
        const d = decode(deltaToken);
        state = { ...d, since: d.snap, snap: a.seq, off: 0 };
      } else {
        const start = url.searchParams.get('startDateTime');
        const end = url.searchParams.get('endDateTime');
        if (!start || !end || Number.isNaN(Date.parse(start)) || Number.isNaN(Date.parse(end))) {
          return { status: 400, body: graphError('ErrorInvalidParameter', "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.") };
        }
        state = { e: a.email, g: a.generation, since: null, snap: a.seq, off: 0, start, end };
      }
    } catch {
      return { status: 400, body: graphError('ErrorInvalidUrlQuery', 'The skip or delta token is malformed.') };
    }
    if (state.e !== a.email || state.g !== a.generation) {
      const restart = `${origin}/v1.0/me/calendarView/delta?startDateTime=${encodeURIComponent(state.start)}&endDateTime=${encodeURIComponent(state.end)}`;
      return { status: 410, body: graphError('SyncStateNotFound', 'The sync state generation is not found.'), headers: { location: restart } };
    }
    const lo = Date.parse(state.start);
    const hi = Date.parse(state.end);
    const all = [...a.events.values()]
      .filter((e) => (state.since === null ? !e.removed && e.seq <= state.snap : e.seq > state.since && e.seq <= state.snap))
      .filter((e) => {
        if (state.since !== null) return true;
        return Date.parse(e.json.end.at) > lo && Date.parse(e.json.start.at) < hi;
      })
      .sort((x, y) => x.seq - y.seq);
    const page = all.slice(state.off, state.off + pageSize).map((e) => (e.removed ? { '@odata.type': '#microsoft.graph.event', id: e.json.id, '@removed': { reason: 'deleted' } } : render(e.json, utc)));
    const body: Json = { '@odata.context': `${origin}/v1.0/$metadata#Collection(event)`, value: page };
    const enc = (s: object) => Buffer.from(JSON.stringify(s)).toString('base64url');
    if (state.off + pageSize < all.length) body['@odata.nextLink'] = `${origin}/v1.0/me/calendarView/delta?$skiptoken=${enc({ ...state, off: state.off + pageSize })}`;
    else body['@odata.deltaLink'] = `${origin}/v1.0/me/calendarView/delta?$deltatoken=${enc({ e: a.email, g: a.generation, snap: state.snap, start: state.start, end: state.end })}`;
    return { status: 200, body, headers: utc ? { 'preference-applied': 'outlook.timezone="UTC"' } : {} };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', origin);
    const path = url.pathname;
    requests.push({ method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), prefer: req.headers.prefer as string | undefined, at: Date.now() });

    const login = /^\/([\w.-]+)\/oauth2\/v2\.0\/(authorize|token)$/.exec(path);
    if (login && login[2] === 'authorize' && req.method === 'GET') {
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri');
      if (q.get('client_id') !== clientId) return sendJson(res, 400, aadError('unauthorized_client', 700016, `Application with identifier '${q.get('client_id')}' was not found in the directory.`));
      if (!redirectUri) return sendJson(res, 400, aadError('invalid_request', 900144, "The request body must contain the following parameter: 'redirect_uri'."));
      const target = new URL(redirectUri);
      const state = q.get('state');
      const choice = nextConsent;
      nextConsent = {};
      if (choice.deny) {
        target.searchParams.set('error', 'access_denied');
        target.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
        if (state) target.searchParams.set('state', state);
        return redirect(res, target.toString());
      }
      const email = (q.get('login_hint') ?? choice.email ?? [...accounts.keys()][0] ?? '').toLowerCase();
      if (!accounts.has(email)) return sendJson(res, 400, aadError('invalid_request', 50034, `The user account ${email} does not exist.`));
      const code = `0.A${randomBytes(32).toString('base64url')}`;
      const scopes = choice.scopes ?? (q.get('scope') ?? '').split(' ').filter(Boolean);
      codes.set(code, { email, redirectUri, challenge: q.get('code_challenge') ?? undefined, method: q.get('code_challenge_method') ?? undefined, scopes, expires: Date.now() + 10 * 60_000, used: false });
      target.searchParams.set('code', code);
      if (state) target.searchParams.set('state', state);
      target.searchParams.set('session_state', randomUUID());
      return redirect(res, target.toString());
    }
    if (login && login[2] === 'token' && req.method === 'POST') {
      const form = parseForm(await readBody(req), req.headers.authorization);
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) return sendJson(res, 401, aadError('invalid_client', 7000215, 'Invalid client secret provided.'));
      if (form.get('grant_type') === 'authorization_code') {
        const code = codes.get(form.get('code') ?? '');
        if (!code || code.used || code.expires < Date.now()) return sendJson(res, 400, aadError('invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'));
        code.used = true;
        if (form.get('redirect_uri') !== code.redirectUri) return sendJson(res, 400, aadError('invalid_grant', 50148, 'The redirect_uri does not match the one used in the authorization request.'));
        if (code.challenge && (!form.get('code_verifier') || s256(form.get('code_verifier')!) !== code.challenge)) return sendJson(res, 400, aadError('invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'));
        return sendJson(res, 200, issue(code.email, code.scopes));
      }
      if (form.get('grant_type') === 'refresh_token') {
        const rt = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!rt) return sendJson(res, 400, aadError('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.'));
        if (rt.revoked) return sendJson(res, 400, aadError('invalid_grant', 50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed.'));
        if (rt.used) return sendJson(res, 400, aadError('invalid_grant', 70000, 'The provided value for the refresh_token is not valid: it was already redeemed.'));
        rt.used = true;
        fake.refreshes++;
        return sendJson(res, 200, issue(rt.email, rt.scopes));
      }
      return sendJson(res, 400, aadError('unsupported_grant_type', 70003, 'The app requested an unsupported grant type.'));
    }

    if (!path.startsWith('/v1.0/')) return sendJson(res, 404, graphError('ResourceNotFound', 'Resource not found'));
    const a = authenticate(req, res);
    if (!a) return;
    const rest = path.slice('/v1.0/'.length);

    if (req.method === 'GET' && rest === 'me') {
      return sendJson(res, 200, { '@odata.context': `${origin}/v1.0/$metadata#users/$entity`, id: a.id, displayName: a.name, mail: a.email, userPrincipalName: a.email });
    }
    if (req.method === 'GET' && rest === 'me/calendarView/delta') {
      const r = delta(a, url, req.headers.prefer as string | undefined);
      return sendJson(res, r.status, r.body, r.headers);
    }
    if (req.method === 'POST' && rest === 'subscriptions') {
      const body = JSON.parse((await readBody(req)) || '{}') as Json;
      const expiration = Date.parse(String(body.expirationDateTime));
      if (!['me/events', `users/${a.id}/events`].includes(String(body.resource)) && !/^me\/calendars\/[^/]+\/events$/.test(String(body.resource))) {
        return sendJson(res, 400, graphError('ExtensionError', `Resource '${body.resource}' is not supported.`));
      }
      if (!Number.isFinite(expiration) || expiration <= Date.now() || expiration > Date.now() + MAX_SUBSCRIPTION_MIN * 60_000) {
        return sendJson(res, 400, graphError('InvalidRequest', `Subscription expiration can only be ${MAX_SUBSCRIPTION_MIN} minutes in the future.`));
      }
      if (body.clientState !== undefined && String(body.clientState).length > 128) return sendJson(res, 400, graphError('InvalidRequest', 'clientState must be at most 128 characters.'));
      for (const u of [body.notificationUrl, body.lifecycleNotificationUrl].filter(Boolean)) {
        if (!(await validate(String(u)))) {
          return sendJson(res, 400, graphError('InvalidRequest', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.'));
        }
      }
      const id = randomUUID();
      const json = {
        '@odata.context': `${origin}/v1.0/$metadata#subscriptions/$entity`,
        id,
        resource: body.resource,
        applicationId: clientId,
        changeType: body.changeType,
        clientState: body.clientState ?? null,
        notificationUrl: body.notificationUrl,
        lifecycleNotificationUrl: body.lifecycleNotificationUrl ?? null,
        expirationDateTime: new Date(expiration).toISOString(),
        creatorId: a.id,
        latestSupportedTlsVersion: body.latestSupportedTlsVersion ?? 'v1_2',
        notificationUrlAppId: null,
        includeResourceData: null,
      };
      subscriptions.set(id, { id, email: a.email, json, notificationUrl: body.notificationUrl, lifecycleNotificationUrl: body.lifecycleNotificationUrl, clientState: body.clientState, expiration, deleted: false });
      return sendJson(res, 201, json);
    }
    const sub = /^subscriptions\/([^/]+)(\/reauthorize)?$/.exec(rest);
    if (sub) {
      const s = subscriptions.get(decodeURIComponent(sub[1]!));
      if (!s || s.deleted || s.email !== a.email) return sendJson(res, 404, graphError('ResourceNotFound', 'The object was not found.'));
      if (sub[2] && req.method === 'POST') {
        res.writeHead(204);
        return res.end();
      }
      if (!sub[2] && req.method === 'PATCH') {
        const body = JSON.parse((await readBody(req)) || '{}') as Json;
        const expiration = Date.parse(String(body.expirationDateTime));
        if (!Number.isFinite(expiration) || expiration <= Date.now() || expiration > Date.now() + MAX_SUBSCRIPTION_MIN * 60_000) {
          return sendJson(res, 400, graphError('InvalidRequest', `Subscription expiration can only be ${MAX_SUBSCRIPTION_MIN} minutes in the future.`));
        }
        s.expiration = expiration;
        s.json.expirationDateTime = new Date(expiration).toISOString();
        return sendJson(res, 200, s.json);
      }
      if (!sub[2] && req.method === 'DELETE') {
        s.deleted = true;
        res.writeHead(204);
        return res.end();
      }
    }
    return sendJson(res, 404, graphError('ResourceNotFound', `Resource not found for the segment '${rest.split('/')[0]}'.`));
  }

  const server = https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, (req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, graphError('InternalServerError', String((err as Error).message)));
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: MicrosoftFake = {
    origin,
    clientId,
    clientSecret,
    tenantId,
    env: { MICROSOFT_CLIENT_ID: clientId, MICROSOFT_CLIENT_SECRET: clientSecret, MICROSOFT_GRAPH_BASE_URL: origin, MICROSOFT_LOGIN_BASE_URL: origin },
    autoNotify: true,
    deliveries,
    validations,
    requests,
    refreshes: 0,
    addAccount(email, o = {}) {
      accounts.set(email.toLowerCase(), { email: email.toLowerCase(), id: randomUUID(), name: o.name ?? email.split('@')[0]!, events: new Map(), seq: 0, generation: 1 });
    },
    consent(o) {
      nextConsent = o;
    },
    insertEvent(email, input) {
      const a = acct(email);
      const id = input.id ?? graphId();
      const json = eventJson(a, input, id);
      touch(a, id, { json, removed: false, input });
      changed(a, id, 'created');
      return render(json, true);
    },
    updateEvent(email, id, patch) {
      const a = acct(email);
      const stored = a.events.get(id);
      if (!stored || stored.removed) throw new Error(`fake Graph: no event ${id}`);
      const duration = (stored.input.end ?? new Date(stored.input.start.getTime() + 30 * 60_000)).getTime() - stored.input.start.getTime();
      const input: GraphEventInput = { ...stored.input, ...patch };
      if (patch.start && !patch.end) input.end = new Date(patch.start.getTime() + duration);
      const json = eventJson(a, input, id, { iCalUId: stored.json.iCalUId });
      touch(a, id, { json, removed: false, input });
      changed(a, id, 'updated');
      return render(json, true);
    },
    cancelEvent(email, id) {
      const a = acct(email);
      const stored = a.events.get(id);
      if (!stored) throw new Error(`fake Graph: no event ${id}`);
      touch(a, id, { ...stored, json: { ...stored.json, isCancelled: true, subject: `Canceled: ${stored.json.subject}` } });
      changed(a, id, 'updated');
    },
    deleteEvent(email, id) {
      const a = acct(email);
      const stored = a.events.get(id);
      if (!stored) throw new Error(`fake Graph: no event ${id}`);
      touch(a, id, { ...stored, removed: true });
      changed(a, id, 'deleted');
    },
    insertSeries(email, input, count) {
      const a = acct(email);
      const out: Json[] = [];
      for (let i = 0; i < count; i++) {
        const shift = i * 7 * 24 * 3600_000;
        const occ: GraphEventInput = { ...input, seriesMasterId: input.id, start: new Date(input.start.getTime() + shift), end: new Date((input.end ?? new Date(input.start.getTime() + 30 * 60_000)).getTime() + shift) };
        const id = `${input.id}_occ${i}`;
        const json = eventJson(a, occ, id);
        touch(a, id, { json, removed: false, input: occ });
        out.push(render(json, true));
        changed(a, id, 'created');
      }
      return out;
    },
    revokeGrants(email) {
      for (const r of refreshTokens.values()) if (r.email === email.toLowerCase()) r.revoked = true;
      for (const t of accessTokens.values()) if (t.email === email.toLowerCase()) t.revoked = true;
    },
    expireDeltaTokens(email) {
      acct(email).generation++;
    },
    subscriptions(email) {
      return [...subscriptions.values()].filter((s) => !email || s.email === email.toLowerCase()).map((s) => ({ id: s.id, expiration: s.expiration, deleted: s.deleted, notificationUrl: s.notificationUrl }));
    },
    lifecycle(subscriptionId, event) {
      const s = subscriptions.get(subscriptionId);
      if (!s?.lifecycleNotificationUrl) throw new Error(`fake Graph: subscription ${subscriptionId} has no lifecycle URL`);
      const body = JSON.stringify({
        value: [{ subscriptionId: s.id, subscriptionExpirationDateTime: new Date(s.expiration).toISOString(), tenantId, clientState: s.clientState, lifecycleEvent: event }],
      });
      if (event === 'subscriptionRemoved') s.deleted = true;
      return track(post(s.id, s.lifecycleNotificationUrl, body));
    },
    dropSubscription(id) {
      const s = subscriptions.get(id);
      if (s) s.deleted = true;
    },
    replay(d) {
      return track(post(d.subscriptionId, d.url, d.body));
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
