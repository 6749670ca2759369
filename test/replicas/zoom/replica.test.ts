/**
 * The Zoom replica on its own, without Notula: a plain Playwright page (a third Chromium,
 * standing in for a bot) walks the screens with the selectors and texts of the research
 * notes, and proves the media model: one mixed track per client, mixing everyone who
 * speaks, and an active-speaker markup that follows who really speaks.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { MEETING_SCRIPT, synthesizeSpeech, type SpeechFile } from '../../harness/speech.js';
import { CHROMIUM_PATH, launchParticipants, type ParticipantPool } from '../participant.js';
import { startZoomReplica, type ZoomMeetingSettings, type ZoomReplica } from './server.js';

let replica: ZoomReplica;
let pool: ParticipantPool;
let botBrowser: Browser;
let speech: SpeechFile[];
let toneDir: string;
const contexts: BrowserContext[] = [];

// Roughly what a bot launches with (no mDNS opt-out: the participant side exposes its IP),
// plus a fake microphone (it beeps), so a client that turns the microphone on is heard.
const BOT_ARGS = ['--no-sandbox', '--no-first-run', '--autoplay-policy=no-user-gesture-required', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

// What a bot's WebRTC hook would see: every RTCPeerConnection and every remote audio track,
// with an analyser on each (levels, and the spectrum for the mixing check).
const RTC_HOOK = `(() => {
  const Orig = window.RTCPeerConnection;
  window.__pcs = [];
  window.__tracks = [];
  window.RTCPeerConnection = class extends Orig {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
      this.addEventListener('track', (e) => {
        if (e.track.kind !== 'audio') return;
        const ctx = new AudioContext({ sampleRate: 48000 });
        const el = new Audio(); el.muted = true; el.srcObject = e.streams[0]; el.play().catch(() => {});
        const an = ctx.createAnalyser(); an.fftSize = 4096; an.smoothingTimeConstant = 0;
        ctx.createMediaStreamSource(e.streams[0]).connect(an);
        window.__tracks.push({ an, ctx });
      });
    }
  };
  window.__trackRms = () => window.__tracks.map(({ an }) => {
    const b = new Float32Array(an.fftSize); an.getFloatTimeDomainData(b);
    return Math.sqrt(b.reduce((s, v) => s + v * v, 0) / b.length);
  });
  window.__db = (hz) => window.__tracks.map(({ an, ctx }) => {
    const f = new Float32Array(an.frequencyBinCount); an.getFloatFrequencyData(f);
    const i = Math.round(hz / (ctx.sampleRate / an.fftSize));
    return Math.max(f[i - 1], f[i], f[i + 1]);
  });
})();`;

declare global {
  interface Window {
    __pcs?: RTCPeerConnection[];
    __tracks?: unknown[];
    __trackRms?: () => number[];
    __db?: (hz: number) => number[];
  }
}

/** A 16 kHz mono WAV of a sine tone. */
async function tone(hz: number, ms: number): Promise<string> {
  const rate = 16_000;
  const n = Math.round((rate * ms) / 1000);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  const file = path.join(toneDir, `tone-${hz}-${ms}.wav`);
  await writeFile(file, buf);
  return file;
}

let seq = 0;
function newMeeting(settings: Partial<ZoomMeetingSettings>): string {
  seq += 1;
  const id = String(85200000000 + seq * 31);
  replica.createMeeting(id, settings);
  return id;
}

async function openPage(url: string): Promise<Page> {
  const context = await botBrowser.newContext({ locale: 'en-US' });
  contexts.push(context);
  await context.addInitScript(RTC_HOOK);
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** A person's way through the pre-join of either client (typed with keys, microphone muted). */
async function preJoin(page: Page, name: string, opts: { passcode?: string } = {}) {
  if (opts.passcode) await page.locator('input[placeholder="Meeting Passcode"]').pressSequentially(opts.passcode);
  await page.locator('input[placeholder="Your Name"]').pressSequentially(name);
  const mute = page.locator('#preview-audio-control-button[aria-label="Mute"]');
  if (await mute.count()) await mute.click();
  await page.locator('button.preview-join-button, #joinBtn').click();
}

const text = (page: Page, s: string) => page.getByText(s, { exact: true });

beforeAll(async () => {
  toneDir = await mkdtemp(path.join(tmpdir(), 'zoom-replica-'));
  pool = await launchParticipants();
  [replica, botBrowser, speech] = await Promise.all([
    startZoomReplica({ mixers: pool }),
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
  await rm(toneDir, { recursive: true, force: true });
});

describe('Zoom replica', () => {
  it('walks launch page → classic client → waiting room (inside .meeting-app) → call, with the footer, panels, chat and end modal', async () => {
    const id = newMeeting({ entry: 'landing', webClient: 'classic', cookieBanner: true, permissionDialogs: 1, passcode: '482913', passcodeEntry: 'field' });
    const host = await pool.join(replica.origin, id, 'Ada Lovelace');
    const page = await openPage(`${replica.origin}/wc/${id}/join?pwd=482913`);

    // The web client bounced to the launch page; the browser link appears after "Launch Meeting".
    expect(new URL(page.url()).pathname).toBe(`/j/${id}`);
    expect(await page.getByText('Join from your browser').isVisible()).toBe(false);
    // The cookie banner makes the page inert.
    await expect(page.getByRole('button', { name: 'Launch Meeting' }).click({ timeout: 500 })).rejects.toThrow();
    await page.locator('#onetrust-accept-btn-handler').click();
    await page.getByRole('button', { name: 'Launch Meeting' }).click();
    await page.getByRole('link', { name: 'Join from your browser' }).click();
    // …to the classic client (the meeting's), which shows its own banner.
    await page.waitForURL(new RegExp(`/wc/join/${id}\\?`));
    await page.locator('#onetrust-accept-btn-handler').click();
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Allow', exact: true }).count()).resolves.toBe(0);

    // The name field is controlled: fill() and scripts do not reach the client, keys do.
    const name = page.locator('#inputname[placeholder="Your Name"]');
    await name.fill('Scripted');
    expect(await name.inputValue()).toBe('');
    await page.locator('#inputpasscode').pressSequentially('482913');
    expect(await page.locator('#joinBtn').isDisabled()).toBe(true);
    await name.pressSequentially('Notula Bot');
    expect(await page.locator('#joinBtn').isDisabled()).toBe(false);
    await page.locator('#joinBtn').click();

    expect(await replica.waitForKnock(id, 5000)).toEqual({ name: 'Notula Bot' });
    await text(page, 'Please wait, the meeting host will let you in soon.').waitFor();
    expect(await page.getByText("Host has joined. We've let them know you're here.").count()).toBe(1);
    // The waiting room is inside .meeting-app and has a "Leave" button — but not the footer's aria-label="Leave".
    expect(await page.locator('.meeting-app .wr-container').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Leave', exact: true }).count()).toBe(1);
    expect(await page.locator('button[aria-label="Leave"]').count()).toBe(0);

    replica.admit(id, 'Notula Bot');
    await page.locator('button[aria-label="Leave"]').waitFor();
    // Computer audio: the dialog (classic wording); without it no media connection exists.
    const joinAudio = page.getByRole('button', { name: 'Join with Computer Audio' });
    await joinAudio.waitFor();
    expect(await page.evaluate(() => window.__pcs!.length)).toBe(0);
    await joinAudio.click();
    await expect.poll(() => page.evaluate(() => window.__pcs!.length)).toBe(1);
    // The classic client turns the microphone on when audio joins.
    await expect.poll(() => replica.participants(id).map((p) => [p.name, p.audio, p.muted])).toEqual([
      ['Ada Lovelace', true, false],
      ['Notula Bot', true, false],
    ]);
    await page.locator('button[aria-label="mute my microphone"]').click();
    await expect.poll(() => replica.participants(id).find((p) => p.name === 'Notula Bot')?.muted).toBe(true);
    expect(await page.locator('button[aria-label="open the participants list pane,[2] particpants"]').innerText()).toMatch(/^2\s*Participants$/);

    // The footer hides without the mouse; Leave is still there, just not visible.
    await page.locator('#wc-footer.footer--hidden').waitFor({ state: 'attached', timeout: 6000 });
    expect(await page.locator('button[aria-label="Leave"]').isVisible()).toBe(false);
    await page.mouse.move(200, 200);
    await page.locator('button[aria-label="Leave"]').waitFor({ state: 'visible' });

    await page.locator('button[aria-label^="open the participants list"]').click();
    await expect
      .poll(() => page.locator('.participants-item__item-layout').evaluateAll((els) => els.map((e) => e.textContent!.replace(/\s+/g, ' ').trim())))
      .toEqual(['Ada Lovelace (Host)', 'Notula Bot (Me)']);

    await page.locator('button[aria-label="open the chat panel"]').click();
    await page.locator('textarea.chat-box__chat-textarea').pressSequentially('Hello from the notetaker');
    await page.keyboard.press('Enter');
    await host.chat('Welcome!');
    await page.locator('[aria-label="Chat Message List"]', { hasText: 'Welcome!' }).waitFor();
    expect(replica.chatMessages(id).map((m) => [m.from, m.text])).toEqual([
      ['Notula Bot', 'Hello from the notetaker'],
      ['Ada Lovelace', 'Welcome!'],
    ]);

    // The end modal sits over the call UI, which is still in the DOM.
    replica.end(id);
    await page.locator('.zm-modal-body-title', { hasText: 'This meeting has been ended by host' }).waitFor();
    expect(await page.locator('[aria-label="Meeting is end now"]').count()).toBe(1);
    expect(await page.locator('button[aria-label="Leave"]').count()).toBe(1);
    expect(replica.participants(id)).toEqual([]);
  }, 45_000);

  it('serves the new client, redirects the classic path to it, and shows the preview and permission dialogs', async () => {
    const id = newMeeting({ webClient: 'new', waitingRoom: false, permissionDialogs: 2, audioPrompt: 'footer', passcode: 'abc123' });
    const page = await openPage(`${replica.origin}/wc/join/${id}?pwd=abc123`);
    await page.waitForURL(new RegExp(`/wc/${id}/join\\?pwd=abc123$`));
    await text(page, 'Do you want people to see and hear you in the meeting?').waitFor();
    await page.getByRole('button', { name: 'Continue without microphone and camera' }).click();
    await text(page, 'Do you want people to hear you in the meeting?').waitFor();
    await page.getByRole('button', { name: 'Continue without microphone and camera' }).click();
    // The pwd in the link was accepted: no passcode field.
    expect(await page.locator('#input-for-pwd').count()).toBe(0);
    expect(await page.locator('#preview-audio-control-button').getAttribute('aria-label')).toBe('Unmute');
    expect(await page.locator('#preview-video-control-button').getAttribute('aria-label')).toBe('Start Video');
    expect(await page.locator('button.preview-join-button').getAttribute('class')).toContain('disabled');
    await page.locator('#input-for-name').pressSequentially('Notula Bot');
    expect(await page.locator('button.preview-join-button').getAttribute('class')).not.toContain('disabled');
    await page.locator('button.preview-join-button').click();
    await text(page, 'Joining Meeting...').waitFor();
    await page.locator('button[aria-label="Leave"]').waitFor();
    // Footer audio variant: no dialog, the button joins computer audio directly.
    await page.locator('button.join-audio-container__btn[aria-label="Join Audio"]').click();
    await page.locator('button[aria-label="unmute my microphone"]').waitFor();
    await page.locator('button[aria-label="Leave"]').click();
    await page.locator('button.leave-meeting-options__btn--danger').click();
    await page.waitForURL(/\/postattendee/);
    expect(replica.participants(id)).toEqual([]);
  });

  it('shows the screens of a meeting that has not started, an unknown id, a wrong passcode and the bot wall', async () => {
    const waiting = newMeeting({ started: false, notStartedScreen: 'wait', waitingRoom: false, permissionDialogs: 0 });
    const p1 = await openPage(`${replica.origin}/wc/${waiting}/join`);
    await preJoin(p1, 'Notula Bot');
    await text(p1, 'Waiting for the host to start this meeting').waitFor();
    expect(await p1.locator('.meeting-app').count()).toBe(1);
    expect(replica.visits(waiting).waitingForHost).toBe(1);
    replica.startMeeting(waiting);
    await p1.locator('button[aria-label="Leave"]').waitFor();

    const erroring = newMeeting({ started: false, notStartedScreen: 'error', permissionDialogs: 0 });
    const p2 = await openPage(`${replica.origin}/wc/${erroring}/join`);
    await text(p2, 'This meeting link is invalid (3,001)').waitFor();
    expect(await p2.title()).toBe('Error - Zoom');
    replica.startMeeting(erroring);
    await p2.waitForTimeout(300);
    expect(await p2.getByText('This meeting link is invalid (3,001)').count()).toBe(1); // stays until opened again
    await p2.reload();
    await p2.locator('#input-for-name').waitFor();

    const p3 = await openPage(`${replica.origin}/wc/81999999999/join`);
    await text(p3, 'Invalid meeting ID').waitFor();
    expect(await p3.title()).toBe('Zoom');

    const locked = newMeeting({ passcode: 'right1', permissionDialogs: 0 });
    const p4 = await openPage(`${replica.origin}/wc/${locked}/join?pwd=wrong2`);
    await preJoin(p4, 'Notula Bot', { passcode: 'wrong2' });
    await text(p4, 'Passcode wrong').waitFor();

    const walled = newMeeting({ botWall: true, permissionDialogs: 0 });
    const p5 = await openPage(`${replica.origin}/wc/${walled}/join`);
    await preJoin(p5, 'Notula Bot');
    await p5.getByText('Automated bots aren’t allowed to join this meeting or webinar and must use Zoom RTMS', { exact: false }).waitFor();
    expect(await p5.locator('iframe[src*="recaptcha"]').count()).toBe(1);
    expect(replica.knocks(walled)).toEqual([]);
  });

  it('removes, denies and times out guests', async () => {
    const id = newMeeting({ waitingRoom: true, permissionDialogs: 0 });
    const impatient = newMeeting({ waitingRoom: true, permissionDialogs: 0, waitingRoomTimeoutMs: 3000 });
    await pool.join(replica.origin, id, 'Host');
    const [a, b, c] = await Promise.all([id, id, impatient].map((m) => openPage(`${replica.origin}/wc/${m}/join`)));
    await preJoin(a!, 'Guest A');
    await preJoin(b!, 'Guest B');
    await expect.poll(() => replica.knocks(id).map((k) => k.name)).toEqual(['Guest A', 'Guest B']);
    replica.admit(id, 'Guest A');
    replica.deny(id, 'Guest B');
    await b!.locator('.zm-modal-body-title', { hasText: 'You have been removed from this meeting' }).waitFor();
    await a!.locator('button[aria-label="Leave"]').waitFor();
    replica.remove(id, 'Guest A');
    await a!.locator('.zm-modal-body-title', { hasText: 'You have been removed from this meeting' }).waitFor();
    await preJoin(c!, 'Guest C');
    await replica.waitForKnock(impatient, 5000);
    await c!.locator('.zm-modal-body-title', { hasText: 'Waiting room timeout' }).waitFor({ timeout: 5000 });
    expect(replica.knocks(impatient)).toEqual([]);
    expect(replica.participants(id).map((p) => p.name)).toEqual(['Host']);
  });

  it('sends a listen-only client ONE mixed track that carries everyone who speaks', async () => {
    const id = newMeeting({ waitingRoom: false, permissionDialogs: 0 });
    const [ada, grace] = await Promise.all([pool.join(replica.origin, id, 'Ada'), pool.join(replica.origin, id, 'Grace')]);
    const page = await openPage(`${replica.origin}/wc/${id}/join`);
    await preJoin(page, 'Listener');
    await page.getByRole('button', { name: 'Join Audio by Computer' }).click();
    await page.waitForFunction(() => window.__tracks!.length > 0);
    await Promise.all([ada!.waitForPeers(1), grace!.waitForPeers(1)]);
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => window.__trackRms!()[0]!)).toBeLessThan(0.003);

    const [low, high] = await Promise.all([tone(440, 2500), tone(1250, 2500)]);
    const both = Promise.all([ada!.speak(low), grace!.speak(high)]);
    await page.waitForTimeout(1200);
    const [at440, at1250, at3000] = await page.evaluate(() => [window.__db!(440)[0]!, window.__db!(1250)[0]!, window.__db!(3000)[0]!]);
    await both;
    // Both tones in the one track, well above the spectrum elsewhere.
    expect(at440 - at3000).toBeGreaterThan(25);
    expect(at1250 - at3000).toBeGreaterThan(25);
    // One connection, one remote audio track, however many people talk.
    expect(await page.evaluate(() => [window.__pcs!.length, window.__tracks!.length])).toEqual([1, 1]);
    const receivers = await page.evaluate(() => window.__pcs![0]!.getReceivers().filter((r) => r.track.kind === 'audio').length);
    expect(receivers).toBe(1);
  });

  it('marks who really speaks in the speaker bar, while the big frame keeps the last speaker', async () => {
    const id = newMeeting({ waitingRoom: false, permissionDialogs: 0, view: 'speaker' });
    const [ada, grace] = await Promise.all([pool.join(replica.origin, id, 'Ada Lovelace'), pool.join(replica.origin, id, 'Grace Hopper')]);
    const page = await openPage(`${replica.origin}/wc/${id}/join`);
    await preJoin(page, 'Listener');
    await page.locator('button[aria-label="Leave"]').waitFor();
    await Promise.all([ada!.waitForPeers(1), grace!.waitForPeers(1)]);
    const activeNames = () => page.locator('.speaker-bar-container__video-frame--active .video-avatar__avatar-footer span').allInnerTexts();
    expect(await activeNames()).toEqual([]);

    const adaTalks = ada!.speak(speech[0]!.path);
    await expect.poll(activeNames, { timeout: 3000, interval: 100 }).toEqual(['Ada Lovelace']);
    const adaTurn = await adaTalks;
    await expect.poll(activeNames, { timeout: 3000, interval: 100 }).toEqual([]);
    expect(await page.locator('.speaker-active-container__video-frame .video-avatar__avatar-footer span').innerText()).toBe('Ada Lovelace');

    const graceTalks = grace!.speak(speech[1]!.path);
    await expect.poll(activeNames, { timeout: 3000, interval: 100 }).toEqual(['Grace Hopper']);
    const graceTurn = await graceTalks;
    await expect.poll(activeNames, { timeout: 3000, interval: 100 }).toEqual([]);
    expect(await page.locator('.speaker-active-container__video-frame .video-avatar__avatar-footer span').innerText()).toBe('Grace Hopper');

    // The server's log of what it pushed: each speaker marked within their own turn, nobody else.
    const events = replica.speakerEvents(id);
    const firstMark = (n: string) => events.find((e) => e.speaking.includes(n))!.at;
    expect(firstMark('Ada Lovelace')).toBeGreaterThanOrEqual(adaTurn.startedAt);
    expect(firstMark('Ada Lovelace')).toBeLessThan(adaTurn.startedAt + 800);
    expect(firstMark('Grace Hopper')).toBeGreaterThanOrEqual(graceTurn.startedAt);
    expect(firstMark('Grace Hopper')).toBeLessThan(graceTurn.startedAt + 800);
    expect(events.every((e) => e.speaking.every((n) => n === 'Ada Lovelace' || n === 'Grace Hopper'))).toBe(true);
    expect(events.filter((e) => e.speaking.length > 1)).toEqual([]);
  }, 45_000);
});
