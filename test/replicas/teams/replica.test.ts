/**
 * The Teams replica on its own, without Notula: Teams' URL shapes and redirects, then a plain
 * Playwright page (standing in for a bot) walks the screens with the research notes' selectors
 * and texts, while test participants in a separate browser talk through the conference mixer.
 * It proves the audio is Teams-like — ONE remote track, `mainAudio` in its stream id, carrying
 * whoever speaks — and that the voice-level outline follows who really speaks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { MEETING_SCRIPT, synthesizeSpeech, type SpeechFile } from '../../harness/speech.js';
import { CHROMIUM_PATH, launchParticipants, type ParticipantPool } from '../participant.js';
import { startTeamsReplica, type TeamsMeetingSettings, type TeamsReplica } from './server.js';

let replica: TeamsReplica;
let pool: ParticipantPool;
let botBrowser: Browser;
let speech: SpeechFile[];
const contexts: BrowserContext[] = [];

const BOT_ARGS = ['--no-sandbox', '--no-first-run', '--autoplay-policy=no-user-gesture-required', '--use-fake-ui-for-media-stream'];

// What a bot's WebRTC hook would do: remember each remote track and the stream id it came with.
const RTC_HOOK = `(() => {
  const Orig = window.RTCPeerConnection;
  window.__remote = [];
  window.RTCPeerConnection = class extends Orig {
    constructor(...args) {
      super(...args);
      this.addEventListener('track', (e) => window.__remote.push({ kind: e.track.kind, streamId: e.streams[0] ? e.streams[0].id : null }));
    }
  };
})();`;

declare global {
  interface Window {
    __remote?: { kind: string; streamId: string | null }[];
    __rms?: number;
    __maxRms?: number;
  }
}

const path = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

async function openBot(url: string): Promise<Page> {
  const context = await botBrowser.newContext({ locale: 'en-US' });
  contexts.push(context);
  await context.addInitScript(RTC_HOOK);
  const page = await context.newPage();
  await page.goto(`${replica.origin}${path(url)}`);
  return page;
}

/** The frame the meeting UI runs in: light-meetings' iframe, or the page itself. */
async function meetingFrame(page: Page): Promise<Frame> {
  await expect.poll(() => page.frames().some((f) => f.url().includes('/light-meetings/experience') || f.url().includes('/v2/'))).toBe(true);
  return page.frames().find((f) => f.url().includes('/light-meetings/experience')) ?? page.mainFrame();
}

/** Launcher → web client → (modal) → pre-join → "Join now", the way the research notes describe it. */
async function walkToJoin(page: Page, name: string, settings: Partial<TeamsMeetingSettings>): Promise<Frame> {
  if (settings.launcher !== 'none') await page.locator('button[data-tid="joinOnWeb"]').click();
  const f = await meetingFrame(page);
  const join = f.locator('[data-tid="prejoin-join-button"]');
  await join.waitFor();
  if (settings.avModal === 'before-prejoin') {
    await f.getByRole('dialog').getByText("Are you sure you don't want audio or video?").waitFor();
    await f.locator('[data-tid="prejoin-display-name-input"]').fill(name);
    expect(await join.isDisabled()).toBe(true); // the modal holds the pre-join back
    await f.getByRole('button', { name: 'Continue without audio or video' }).click();
  } else {
    await f.locator('[data-tid="prejoin-display-name-input"]').fill(name);
  }
  for (const tid of ['toggle-mute', 'toggle-video']) {
    const sw = f.locator(`[data-tid="${tid}"]`);
    if ((await sw.getAttribute('aria-checked')) === 'true') await sw.click();
    expect(await sw.getAttribute('aria-checked')).toBe('false');
  }
  await join.click();
  if (settings.avModal === 'after-join') await f.getByRole('button', { name: 'Continue without audio or video' }).click();
  return f;
}

beforeAll(async () => {
  pool = await launchParticipants();
  [replica, botBrowser, speech] = await Promise.all([
    startTeamsReplica({ mediaBrowser: pool.browser }),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: BOT_ARGS }),
    Promise.all(MEETING_SCRIPT.slice(0, 2).map((t) => synthesizeSpeech(t))),
  ]);
});

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

afterAll(async () => {
  await botBrowser?.close();
  await replica?.close();
  await pool?.close();
});

describe('Teams replica', () => {
  it("serves Teams' URL shapes: meetup-join and /meet/ go to the launcher, which leads to the web client", async () => {
    const m = replica.createMeeting({ kind: 'meetup-join' });
    expect(m.url).toMatch(/^https:\/\/teams\.microsoft\.com\/l\/meetup-join\/19%3ameeting_[\w-]+%40thread\.v2\/0\?context=%7b%22Tid%22%3a%22[0-9a-f-]{36}%22%2c%22Oid%22%3a%22[0-9a-f-]{36}%22%7d$/);
    const res = await fetch(`${replica.origin}${path(m.url)}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const launcher = new URL(res.headers.get('location')!, replica.origin);
    expect(launcher.pathname).toBe('/dl/launcher/launcher.html');
    expect(launcher.searchParams.get('url')).toBe(`/_#${path(m.url)}&anon=true`);
    expect(launcher.searchParams.get('type')).toBe('meetup-join');

    const meet = replica.createMeeting({ kind: 'meet', host: 'teams.live.com', launcher: 'join-on-browser' });
    expect(meet.url).toMatch(/^https:\/\/teams\.live\.com\/meet\/\d{13}\?p=[A-Za-z0-9]+$/);
    const res2 = await fetch(`${replica.origin}${path(meet.url)}`, { redirect: 'manual' });
    expect(new URL(res2.headers.get('location')!, replica.origin).searchParams.get('url')).toBe(`/_#${path(meet.url)}&anon=true`);

    // Each launcher variant offers the web client its own way.
    const page = await openBot(meet.url);
    await page.getByRole('button', { name: 'Join on this browser', exact: true }).click();
    await page.waitForURL(/\/v2\/\?meetingjoin=true#\/meet\/\d+\?p=/);
    await page.locator('input[data-tid="prejoin-display-name-input"][placeholder="Type your name"]').waitFor();

    const aria = replica.createMeeting({ launcher: 'aria-label', client: 'light' });
    const page2 = await openBot(aria.url);
    const button = page2.locator('button[aria-label="Join meeting from this browser"]');
    expect(await button.innerText()).not.toContain('browser');
    await button.click();
    await page2.waitForURL(/\/light-meetings\/launch\?.*coords=/);
    const coords = new URL(page2.url()).searchParams.get('coords')!;
    expect(JSON.parse(Buffer.from(coords, 'base64').toString())).toMatchObject({ conversationId: aria.code, messageId: '0' });
    // The light-meetings pre-join lives in an iframe, not in the page.
    const f = await meetingFrame(page2);
    expect(f).not.toBe(page2.mainFrame());
    await f.locator('[data-tid="prejoin-join-button"]').waitFor();
    expect(await page2.mainFrame().locator('[data-tid="prejoin-join-button"]').count()).toBe(0);
    expect(await f.getByRole('button', { name: 'Continue without audio or video' }).count()).toBe(1);
  });

  it('walks pre-join → lobby → admitted → removed, with the lobby hang-up button and the alert banner after admission', async () => {
    const settings = { lobby: true, launcher: 'continue', client: 'v2', avModal: 'before-prejoin', toggles: 'on', rosterCount: 'badge' } as const;
    const m = replica.createMeeting(settings);
    await pool.join(replica.origin, m.code, 'Ada Lovelace');
    const page = await openBot(m.url);
    const f = await walkToJoin(page, 'Notula Bot', settings);

    expect(await replica.waitForKnock(m.code, 5000)).toEqual({ name: 'Notula Bot' });
    await f.getByText('Someone will let you in soon', { exact: true }).waitFor();
    expect(await f.locator('#hangup-button').count()).toBe(1); // present in the lobby too
    expect(await f.locator('#callingButtons-showMoreBtn').count()).toBe(0);
    expect(await f.locator('[data-tid="roster-button-tile"]').count()).toBe(0);
    expect(replica.participants(m.code).map((p) => p.name)).toEqual(['Ada Lovelace']);

    replica.admit(m.code, 'Notula Bot');
    const admittedAt = Date.now();
    // The false positive: an alert banner about 1.5 s after admission, which is not a removal.
    // Watched from now, so the steps below do not count towards when it showed.
    const alert = f.locator('[role="alert"].error-message');
    const alertShownAt = alert.waitFor({ timeout: 5000 }).then(() => Date.now());
    await f.locator('#callingButtons-showMoreBtn').waitFor();
    expect(await f.locator('#hangup-button').count()).toBe(1);
    await expect.poll(() => f.locator('[data-tid="roster-button-tile"]').textContent()).toBe('2');
    expect(replica.participants(m.code)).toMatchObject([
      { name: 'Ada Lovelace', role: 'host' },
      { name: 'Notula Bot', role: 'guest', micOn: false, cameraOn: false },
    ]);
    // The tile of the other person, named in data-tid, with its voice-level outline.
    await f.locator('[data-stream-type="Video"][data-tid="Ada Lovelace"] [data-tid="voice-level-stream-outline"]').waitFor();
    expect(await f.locator('[data-stream-type="Video"][data-tid="Notula Bot"]').count()).toBe(0);

    // The roster: "In this meeting (2)", the guest marked as such.
    await f.locator('#roster-button').click();
    await f.getByText('In this meeting (2)').waitFor();
    expect(await f.locator('li[data-tid^="participantsInCall-"] [data-tid="roster-item-display-name"]').allTextContents()).toEqual([
      'Ada Lovelace',
      'Notula Bot (Guest)',
    ]);

    const after = (await alertShownAt) - admittedAt;
    expect(after).toBeGreaterThan(1000);
    expect(after).toBeLessThan(3500);
    expect(await alert.locator('[data-tid*="retry"]').count()).toBe(1);
    expect(await alert.getByRole('button', { name: 'OK' }).count()).toBe(1);
    expect(replica.participants(m.code).map((p) => p.name)).toContain('Notula Bot');

    replica.remove(m.code, 'Notula Bot');
    await f.locator('#calling-retry-screen-title', { hasText: "You've been removed from this meeting" }).waitFor();
    expect(await f.locator('#callingButtons-showMoreBtn').count()).toBe(0);
    expect(replica.participants(m.code).map((p) => p.name)).toEqual(['Ada Lovelace']);
  });

  it('sends ONE mixed mainAudio track to a listen-only page, carrying whoever speaks, and outlines the real speaker', async () => {
    const m = replica.createMeeting({ lobby: false, launcher: 'none', client: 'light', avModal: 'after-join', toggles: 'on' });
    const ada = await pool.join(replica.origin, m.code, 'Ada Lovelace');
    const grace = await pool.join(replica.origin, m.code, 'Grace Hopper');
    const page = await openBot(m.url);
    const f = await walkToJoin(page, 'Notula Bot', { launcher: 'none', avModal: 'after-join' });
    await f.locator('#callingButtons-showMoreBtn').waitFor();
    await ada.waitForPeers(2);
    await grace.waitForPeers(2);

    // Teams-like audio: exactly one remote audio track, from a stream whose id contains mainAudio.
    await expect.poll(() => f.evaluate(() => window.__remote ?? [])).toEqual([{ kind: 'audio', streamId: expect.stringContaining('mainAudio') }]);
    expect(await f.locator('audio').count()).toBe(1);
    // Like a bot's capture: an analyser on the one playing <audio>.
    await f.evaluate(() => {
      const el = document.querySelector('audio')!;
      const ctx = new AudioContext();
      const an = ctx.createAnalyser();
      an.fftSize = 2048;
      ctx.createMediaStreamSource(el.srcObject as MediaStream).connect(an);
      const buf = new Float32Array(an.fftSize);
      window.__maxRms = 0;
      setInterval(() => {
        an.getFloatTimeDomainData(buf);
        window.__rms = Math.sqrt(buf.reduce((s, v) => s + v * v, 0) / buf.length);
        window.__maxRms = Math.max(window.__maxRms ?? 0, window.__rms);
      }, 30);
    });
    await page.waitForTimeout(600);
    expect(await f.evaluate(() => window.__maxRms)).toBeLessThan(0.005); // silence before anyone speaks
    const outline = (name: string) => f.locator(`[data-stream-type="Video"][data-tid="${name}"] [data-tid="voice-level-stream-outline"]`);
    expect(await f.locator('[data-tid="voice-level-stream-outline"].vdi-frame-occlusion').count()).toBe(0);

    for (const [speaker, other, line] of [
      [ada, grace, speech[0]!],
      [grace, ada, speech[1]!],
    ] as const) {
      await f.evaluate(() => (window.__maxRms = 0));
      const spoken = speaker.speak(line.path);
      await outline(speaker.name).and(f.locator('.vdi-frame-occlusion[data-is-speaking="true"]')).waitFor({ timeout: 3000 });
      // The mixer reports levels to the server as they change; under load the report of the
      // previous speaker's hold can arrive a moment late.
      await expect.poll(() => replica.speaking(m.code), { timeout: 2000 }).toEqual([speaker.name]);
      expect(await outline(other.name).getAttribute('class')).not.toContain('vdi-frame-occlusion');
      const { startedAt, endedAt } = await spoken;
      expect(endedAt - startedAt).toBeGreaterThan(line.durationMs - 300);
      // The one track carried this speaker's voice.
      expect(await f.evaluate(() => window.__maxRms)).toBeGreaterThan(0.02);
      await f.locator('[data-tid="voice-level-stream-outline"].vdi-frame-occlusion').waitFor({ state: 'detached', timeout: 3000 });
      expect(replica.speaking(m.code)).toEqual([]);
    }
    // Still one track after everyone spoke.
    expect(await f.evaluate(() => window.__remote?.length)).toBe(1);

    // Chat both ways through the compose box.
    await f.locator('#chat-button').click();
    await f.locator('[data-tid="ckeditor"][contenteditable="true"]').fill('Hello from the notetaker');
    await f.locator('button[data-tid="newMessageCommands-send"]').click();
    await ada.chat('Welcome!');
    await f.locator('[data-tid="chat-pane-message"]', { hasText: 'Welcome!' }).waitFor();
    expect(replica.chatMessages(m.code).map((c) => [c.from, c.text])).toEqual([
      ['Notula Bot', 'Hello from the notetaker'],
      ['Ada Lovelace', 'Welcome!'],
    ]);

    await grace.leave();
    await ada.leave();
    await expect.poll(() => f.locator('[data-cid="calling-participant-stream"]').count()).toBe(0);
    await f.locator('#hangup-button').click();
    await f.getByText('You left the meeting').waitFor();
    expect(replica.participants(m.code)).toEqual([]);
  }, 60_000);

  it('shows denial, the end of the meeting, not-found, the sign-in wall and bounce, and the captcha', async () => {
    const settings = { lobby: true, launcher: 'continue', avModal: 'none', toggles: 'off' } as const;
    const denied = replica.createMeeting(settings);
    const p1 = await openBot(denied.url);
    const f1 = await walkToJoin(p1, 'Notula Bot', settings);
    await replica.waitForKnock(denied.code, 5000);
    replica.deny(denied.code, 'Notula Bot');
    await f1.locator('#calling-retry-screen-title', { hasText: 'Sorry, but you were denied access to the meeting' }).waitFor();
    expect(await f1.locator('[data-tid="calling-retry-cancelbutton"]').count()).toBe(1);
    expect(replica.knocks(denied.code)).toEqual([]);

    const ended = replica.createMeeting({ ...settings, lobby: false });
    const host = await pool.join(replica.origin, ended.code, 'Ada Lovelace');
    const p2 = await openBot(ended.url);
    const f2 = await walkToJoin(p2, 'Notula Bot', settings);
    await f2.locator('#callingButtons-showMoreBtn').waitFor();
    replica.end(ended.code);
    await f2.getByText('The meeting has ended').waitFor();
    expect(replica.participants(ended.code)).toEqual([]);
    await host.leave();

    const p3 = await openBot(
      'https://teams.microsoft.com/l/meetup-join/19%3ameeting_bm90LWEtbWVldGluZw%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%7d',
    );
    await p3.locator('button[data-tid="joinOnWeb"]').click();
    await p3.getByText('Looks like the meeting URL is incorrect').waitFor();
    expect(await p3.locator('[data-tid="prejoin-display-name-input"]').count()).toBe(0);

    const wall = replica.createMeeting({ signIn: 'prompt' });
    const p4 = await openBot(wall.url);
    await p4.locator('button[data-tid="joinOnWeb"]').click();
    await p4.getByText('To join, sign in or use Teams on the web').waitFor();

    const bounce = replica.createMeeting({ signIn: 'login' });
    const p5 = await openBot(bounce.url);
    await p5.locator('button[data-tid="joinOnWeb"]').click();
    await p5.waitForURL(/\/common\/oauth2\/v2\.0\/authorize\?/);
    await p5.locator('input[name="loginfmt"]').waitFor();

    const captcha = replica.createMeeting({ captcha: true, avModal: 'none' });
    const p6 = await openBot(captcha.url);
    const f6 = await walkToJoin(p6, 'Notula Bot', { launcher: 'continue', avModal: 'none' });
    await f6.getByText('Verify you’re a real person').waitFor();
    expect(replica.knocks(captcha.code)).toEqual([]);
  });
});
