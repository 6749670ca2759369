/**
 * The Meeting SDK adapter in a real Chromium, on Notula's own SDK page server, against a
 * stand-in ZoomMtg driven by the fake Zoom control server (the real SDK needs Zoom's
 * servers): what join hands the SDK (signature, meeting number, passcode, name, tokens),
 * cross-origin isolation, the state the adapter reads from the SDK's events (waiting room,
 * admission, participants, speakers, ends), join errors, chat and leave.
 */
import { jwtVerify } from 'jose';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../lib/log.js';
import { parseMeetingUrl } from '../../../lib/meeting-url.js';
import { startFakeZoom, type FakeZoom } from '../../../test/replicas/zoom-sdk/server.js';
import { chromiumArgs } from '../../browser.js';
import type { Observation, PlatformContext } from '../adapter.js';
import { readState, ZoomSdkAdapter, type JoinTokens } from './zoom-sdk-adapter.js';

const SDK_KEY = 'TestClientId1234';
const SDK_SECRET = 'test-client-secret-5678';
const BOT = 'Notula Notetaker';
const ada = { userId: 16778240, userName: 'Ada Lovelace', isHost: true };
const grace = { userId: 16779264, userName: 'Grace Hopper' };
const me = { userId: 16780288, userName: BOT };

let fake: FakeZoom;
let browser: Browser;
let adapter: ZoomSdkAdapter;
let tokens: JoinTokens | undefined;
let next = 81_234_567_000;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  fake = await startFakeZoom();
  adapter = new ZoomSdkAdapter({ sdkKey: SDK_KEY, sdkSecret: SDK_SECRET, assets: fake.assets, joinRetryMs: { general: 300, notStarted: 500 }, joinTokens: () => tokens });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs({ sandbox: false }), ignoreDefaultArgs: ['--enable-automation', '--mute-audio'] });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await adapter?.close();
  await fake?.close();
});

async function openBot(link: (mn: string) => string, a = adapter) {
  const mn = String(next++);
  const parsed = parseMeetingUrl(link(mn));
  if (!parsed.ok) throw new Error(parsed.reason);
  const context = await browser.newContext({ locale: 'en-US' });
  contexts.push(context);
  const page = await context.newPage();
  const ctx: PlatformContext = { page, meeting: parsed.meeting, botName: BOT, overrides: new Map(), log: silentLogger, signal: AbortSignal.timeout(20_000) };
  await page.goto(await a.navigationUrl(parsed.meeting));
  return { mn, ctx, page };
}

async function waitFor(ctx: PlatformContext, pred: (o: Observation) => boolean, timeoutMs = 10_000): Promise<Observation> {
  const deadline = Date.now() + timeoutMs;
  let last: Observation | undefined;
  while (Date.now() < deadline) {
    last = await adapter.observe(ctx);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met; last observation ${JSON.stringify(last)}`);
}

const names = (o: Observation) => (o.participants ?? []).map((p) => `${p.name}${p.isSelf ? ' (self)' : ''}`).sort();

describe('ZoomSdkAdapter with a stand-in ZoomMtg', () => {
  it('opens its own page on 127.0.0.1 and hands the SDK a valid signature, the meeting, the passcode and the name', async () => {
    tokens = undefined;
    const { mn, ctx, page } = await openBot((n) => `https://us02web.zoom.us/j/${n}?pwd=AbCdEf123.1&tk=reg-token_1`);
    const origin = await adapter.pages.origin();
    expect(page.url()).toBe(`${origin}/meeting`);

    const joining = adapter.join(ctx);
    const join = await fake.waitForJoin(mn);
    fake.connect(mn, me);
    fake.enterCall(mn);
    expect(await joining).toEqual({ ok: true });

    expect(join).toMatchObject({ meetingNumber: mn, passWord: 'AbCdEf123.1', userName: BOT, tk: 'reg-token_1' });
    expect(join.zak).toBeUndefined();
    expect(join.obfToken).toBeUndefined();
    const { payload, protectedHeader } = await jwtVerify(join.signature, new TextEncoder().encode(SDK_SECRET), { algorithms: ['HS256'] });
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({ appKey: SDK_KEY, sdkKey: SDK_KEY, mn, role: 0 });
    expect(payload.exp! - payload.iat!).toBe(7200);
    expect(Math.abs(payload.iat! - (Date.now() / 1000 - 30))).toBeLessThan(15);

    // SharedArrayBuffer is there because the page is cross-origin isolated.
    expect(join.page).toMatchObject({
      url: `${origin}/meeting`,
      crossOriginIsolated: true,
      sharedArrayBuffer: true,
      pageHeaders: { coop: 'same-origin', coep: 'require-corp', corp: 'same-origin' },
      sdkHeaders: { coop: 'same-origin', coep: 'require-corp', corp: 'same-origin' },
    });
    expect(join.page.calls).toEqual(['setZoomJSLib', `lib:${origin}/sdk/lib/av`, 'preLoadWasm', 'prepareWebSDK', 'i18n.load:en-US', 'i18n.reload:en-US', 'init', 'join']);
    expect(join.page.init).toMatchObject({ leaveUrl: `${origin}/left`, patchJsMedia: true, leaveOnPageUnload: true, disablePreview: true });

    // The signature stays out of the URL, the page state and the tab's storage.
    const state = JSON.stringify(await readState(page));
    const storage = await page.evaluate(() => JSON.stringify(sessionStorage));
    for (const where of [page.url(), state, storage]) expect(where).not.toContain(join.signature);
  });

  it('passes a ZAK or an OBF token from the caller, and refuses both at once', async () => {
    tokens = { zak: 'zak-token-abc' };
    const a = await openBot((n) => `https://zoom.us/j/${n}`);
    const ja = adapter.join(a.ctx);
    const joinA = await fake.waitForJoin(a.mn);
    fake.connect(a.mn, me);
    fake.enterCall(a.mn);
    await ja;
    expect(joinA).toMatchObject({ zak: 'zak-token-abc', passWord: '' });
    expect(joinA.obfToken).toBeUndefined();

    tokens = { obfToken: 'obf-token-xyz' };
    const b = await openBot((n) => `https://zoom.us/j/${n}`);
    const jb = adapter.join(b.ctx);
    const joinB = await fake.waitForJoin(b.mn);
    fake.connect(b.mn, me);
    fake.enterCall(b.mn);
    await jb;
    expect(joinB.obfToken).toBe('obf-token-xyz');
    expect(joinB.zak).toBeUndefined();

    tokens = { zak: 'z', obfToken: 'o' };
    const c = await openBot((n) => `https://zoom.us/j/${n}`);
    expect(await adapter.join(c.ctx)).toMatchObject({ ok: false, subCode: 'sign_in_required', reason: expect.stringMatching(/cannot be used together/) });
    expect(fake.joins(c.mn)).toEqual([]);
    tokens = undefined;
  });

  it('waits in the waiting room, is admitted, follows participants and speakers, chats, and ends when the host ends the meeting', async () => {
    const { mn, ctx, page } = await openBot((n) => `https://zoom.us/j/${n}?pwd=s3cret`);
    const joining = adapter.join(ctx);
    await fake.waitForJoin(mn);
    fake.connect(mn, me);
    expect((await adapter.observe(ctx)).state).toBe('joining');
    fake.holdInWaitingRoom(mn);
    expect(await joining).toEqual({ ok: true });
    // Connected to the meeting server, yet not in the call.
    const lobby = await waitFor(ctx, (o) => o.state === 'waiting_room');
    expect(lobby.participants).toBeNull();
    expect(await adapter.sendChatMessage(ctx, 'not yet')).toBe(false);

    fake.userJoins(mn, ada);
    fake.admit(mn);
    const inCall = await waitFor(ctx, (o) => o.state === 'in_call' && names(o).length === 2);
    expect(names(inCall)).toEqual(['Ada Lovelace', `${BOT} (self)`]);
    expect(inCall.participants!.find((p) => p.name === 'Ada Lovelace')!.platformId).toBe(String(ada.userId));

    fake.userJoins(mn, grace);
    fake.activeSpeakers(mn, [ada]);
    expect((await waitFor(ctx, (o) => o.speaking.length > 0 && names(o).length === 3)).speaking).toEqual(['Ada Lovelace']);
    fake.activeSpeakers(mn, [grace]);
    await waitFor(ctx, (o) => o.speaking.join() === 'Grace Hopper');
    fake.userLeaves(mn, grace.userId);
    expect(names(await waitFor(ctx, (o) => names(o).length === 2))).toEqual(['Ada Lovelace', `${BOT} (self)`]);

    expect(await adapter.sendChatMessage(ctx, 'Notula is taking notes')).toBe(true);
    expect(fake.chats(mn)).toEqual([{ message: 'Notula is taking notes', userId: null }]);

    fake.hostEnds(mn);
    expect(await waitFor(ctx, (o) => o.state === 'ended')).toMatchObject({ end: { subCode: 'meeting_ended', reason: 'the host ended the meeting' } });
    // The SDK then goes to leaveUrl; the reason survives the navigation.
    fake.goToLeaveUrl(mn);
    await page.waitForURL(/\/left$/);
    expect(await waitFor(ctx, (o) => o.state === 'ended')).toMatchObject({ end: { subCode: 'meeting_ended' } });
    expect((await readState(page))!.joinSpeed).toEqual([1, 8, 6, 7, 8, 13, 14]);
  });

  it.each([
    ['removed from the call', false, 'removed_from_call'],
    ['removed from the waiting room', true, 'denied_entry'],
  ] as const)('ends when %s', async (_label, fromWaitingRoom, subCode) => {
    const { mn, ctx } = await openBot((n) => `https://zoom.us/j/${n}`);
    const joining = adapter.join(ctx);
    await fake.waitForJoin(mn);
    fake.connect(mn, me);
    if (fromWaitingRoom) fake.holdInWaitingRoom(mn);
    else fake.enterCall(mn);
    await joining;
    await waitFor(ctx, (o) => o.state === (fromWaitingRoom ? 'waiting_room' : 'in_call'));
    fake.removeBot(mn, fromWaitingRoom);
    expect((await waitFor(ctx, (o) => o.state === 'ended')).end?.subCode).toBe(subCode);
  });

  it.each([
    [3004, 'Meeting Passcode wrong.', 'meeting_not_found', /wrong meeting passcode/],
    [3712, 'Signature is invalid.', 'sign_in_required', /signature is invalid/],
    [4004, 'meeting ended', 'meeting_ended', /has ended/],
    [4012, 'anonymous join error', 'sign_in_required', /OBF or ZAK/],
  ] as const)('maps join error %i (%s) to %s', async (errorCode, errorMessage, subCode, reason) => {
    const { mn, ctx } = await openBot((n) => `https://zoom.us/j/${n}`);
    const joining = adapter.join(ctx);
    await fake.waitForJoin(mn);
    fake.answerJoin(mn, { ok: false, errorCode, errorMessage });
    const outcome = await joining;
    expect(outcome).toMatchObject({ ok: false, subCode, retry: false });
    expect(outcome.ok === false && outcome.reason).toMatch(reason);
    expect(outcome.ok === false && outcome.reason).toContain(`error ${errorCode}: ${errorMessage}`);
  });

  it('waits for the host when the meeting has not started (3008), joining again until it has', async () => {
    const { mn, ctx } = await openBot((n) => `https://zoom.us/j/${n}`);
    const joining = adapter.join(ctx);
    await fake.waitForJoin(mn);
    fake.answerJoin(mn, { ok: false, errorCode: 3008, errorMessage: 'Meeting has not started' });
    expect(await joining).toEqual({ ok: true });
    expect((await adapter.observe(ctx)).state).toBe('waiting_room');
    await expect.poll(() => fake.joins(mn).length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    fake.connect(mn, me);
    fake.enterCall(mn);
    await waitFor(ctx, (o) => o.state === 'in_call');
  });

  it('retries a general failure (1) twice, then gives up', async () => {
    const { mn, ctx } = await openBot((n) => `https://zoom.us/j/${n}`);
    const joining = adapter.join(ctx);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await expect.poll(() => fake.joins(mn).length, { timeout: 5000 }).toBe(attempt);
      fake.answerJoin(mn, { ok: false, errorCode: 1, errorMessage: 'Fail to join the meeting.' });
    }
    expect(await joining).toMatchObject({ ok: false, subCode: 'join_timeout', retry: true });
    expect(fake.joins(mn)).toHaveLength(3);
  });

  it('leaves through ZoomMtg.leaveMeeting', async () => {
    const { mn, ctx, page } = await openBot((n) => `https://zoom.us/j/${n}`);
    const joining = adapter.join(ctx);
    await fake.waitForJoin(mn);
    fake.connect(mn, me);
    fake.enterCall(mn);
    await joining;
    await adapter.leave(ctx);
    expect(fake.left(mn)).toBe(true);
    await page.waitForURL(/\/left$/);
  });

  it('says so when the SDK does not load', async () => {
    const broken = new ZoomSdkAdapter({ sdkKey: SDK_KEY, sdkSecret: SDK_SECRET, assets: { dir: fake.assets.dir, scripts: ['missing.js'] } });
    try {
      const { ctx } = await openBot((n) => `https://zoom.us/j/${n}`, broken);
      expect(await broken.join(ctx)).toMatchObject({ ok: false, subCode: 'join_timeout', reason: expect.stringMatching(/did not load/) });
    } finally {
      await broken.close();
    }
  });
});

describe('the installed @zoom/meetingsdk on the page server', () => {
  it('loads from node_modules (scripts, vendor globals, wasm) cross-origin isolated, and the bridge gets it ready', async () => {
    const real = new ZoomSdkAdapter({ sdkKey: SDK_KEY, sdkSecret: SDK_SECRET });
    const context = await browser.newContext({ locale: 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    const failed: string[] = [];
    const wasm: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
    });
    page.on('pageerror', (e) => failed.push(`page error: ${e.message}`));
    try {
      await page.goto(await real.navigationUrl(parseOk('https://zoom.us/j/81234567899')));
      await page.waitForFunction(() => (window as any).__notulaZoomState?.phase !== 'loading', undefined, { timeout: 30_000 });
      const state = await readState(page);
      expect(state).toMatchObject({ phase: 'ready', isolated: true, error: null, notes: [] });
      expect(await page.evaluate(() => typeof (window as any).ZoomMtg.sendChat)).toBe('function');
      // preLoadWasm fetched the SDK's WebAssembly from our server, multithreaded builds included (SharedArrayBuffer).
      await expect.poll(() => wasm.length, { timeout: 15_000 }).toBeGreaterThan(0);
      expect(wasm.every((p) => p.startsWith('/sdk/lib/av/'))).toBe(true);
      expect(failed).toEqual([]);
    } finally {
      await real.close();
    }
  }, 60_000);
});

function parseOk(link: string) {
  const parsed = parseMeetingUrl(link);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.meeting;
}

