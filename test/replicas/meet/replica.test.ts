/**
 * The Meet replica on its own, without Notula: a plain Playwright page (a third Chromium,
 * standing in for a bot) goes through the flows a Meet adapter must handle, using the
 * selectors and texts from the research notes, while test participants from a separate
 * browser talk over WebRTC.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { MEETING_SCRIPT, synthesizeSpeech, type SpeechFile } from '../../harness/speech.js';
import { CHROMIUM_PATH, launchParticipants, type ParticipantPool } from '../participant.js';
import { startMeetReplica, type MeetReplica, type MeetingSettings } from './server.js';

let replica: MeetReplica;
let pool: ParticipantPool;
let botBrowser: Browser;
let speech: SpeechFile;
const contexts: BrowserContext[] = [];

// Roughly what a bot launches with (no mDNS opt-out: the participant side exposes its IP).
const BOT_ARGS = ['--no-sandbox', '--no-first-run', '--autoplay-policy=no-user-gesture-required', '--use-fake-ui-for-media-stream'];

// What a bot's WebRTC hook would do: remember every RTCPeerConnection the page creates.
const RTC_HOOK = `(() => {
  const Orig = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Orig {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
})();`;

declare global {
  interface Window {
    __pcs?: RTCPeerConnection[];
    __maxRms?: number;
  }
}

let codeSeq = 0;
function newMeeting(settings: Partial<MeetingSettings>): string {
  // Meet codes are xxx-yyyy-zzz; vary the last part per test.
  const suffix = String.fromCharCode(97 + Math.floor(codeSeq / 26), 97 + (codeSeq % 26));
  codeSeq++;
  const code = `abc-defg-h${suffix}`;
  replica.createMeeting(code, settings);
  return code;
}

async function openBot(code: string): Promise<Page> {
  const context = await botBrowser.newContext({ locale: 'en-US' });
  contexts.push(context);
  await context.addInitScript(RTC_HOOK);
  const page = await context.newPage();
  await page.goto(`${replica.origin}/${code}?hl=en`);
  return page;
}

/** The pre-join steps of the research notes: modal, name, mic/camera off, join. */
async function preJoin(page: Page, name: string, joinText: string) {
  await page.locator('input[type="text"][aria-label="Your name"]').fill(name);
  for (const kind of ['microphone', 'camera']) {
    const off = page.locator(`[aria-label="Turn off ${kind}"]`);
    if (await off.count()) {
      await off.click();
    }
    await expect.poll(() => page.locator(`[aria-label="Turn on ${kind}"]`).count()).toBe(1);
  }
  await page.locator('button', { has: page.locator('span', { hasText: joinText }) }).click();
}

const text = (page: Page, s: string) => page.getByText(s, { exact: true });

beforeAll(async () => {
  [replica, pool, botBrowser, speech] = await Promise.all([
    startMeetReplica(),
    launchParticipants(),
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: BOT_ARGS }),
    synthesizeSpeech(MEETING_SCRIPT[0]!),
  ]);
});

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

afterAll(async () => {
  await botBrowser?.close();
  await pool?.close();
  await replica?.close();
});

describe('Meet replica', () => {
  it('walks pre-join → lobby → admitted, carries remote audio, shows speaking, records chat, removes', async () => {
    const code = newMeeting({
      lobby: true,
      mediaModal: 'continue-without',
      toolbar: '2025',
      toggles: 'div',
      postJoinModal: 'recording-notice',
    });
    const alice = await pool.join(replica.origin, code, 'Alice');
    const page = await openBot(code);

    // Media modal blocks the page until answered.
    await page.locator('button', { hasText: 'Continue without microphone and camera' }).click();
    await expect.poll(() => page.locator('input[jsname][type="text"]').count()).toBe(1);
    await expect.poll(() => page.locator('div[role="button"][aria-label="Turn on microphone"]').count()).toBe(1);
    await preJoin(page, 'Notula Bot', 'Ask to join');

    expect(await replica.waitForKnock(code, 5000)).toEqual({ name: 'Notula Bot' });
    // Lobby, with its false positives.
    await text(page, 'Asking to be let in...').waitFor();
    await expect(text(page, 'You’ll join the call when someone lets you in').count()).resolves.toBe(1);
    expect(await page.locator('button', { hasText: 'Return to home screen' }).count()).toBe(1);
    expect(await page.locator('button[aria-label="Leave call"]').count()).toBe(1);
    expect(await page.locator('[aria-label="Turn on microphone"]').count()).toBe(1);
    expect(await page.locator('[aria-label="Turn on camera"]').count()).toBe(1);
    expect(await page.locator('[data-participant-id]', { hasText: 'Notula Bot' }).locator('[aria-label="Backgrounds and effects"]').count()).toBe(1);
    expect(await page.locator('button[aria-label="Chat with everyone"]').count()).toBe(0);
    expect(await page.locator('div[role="region"][aria-label="Call controls"]').count()).toBe(0);
    expect(await page.locator('audio').count()).toBe(0);
    expect(replica.participants(code).map((p) => p.name)).toEqual(['Alice']);

    replica.admit(code, 'Notula Bot');
    const dialog = page.locator('div[aria-modal="true"][role="dialog"]', { hasText: 'This video call is being recorded' });
    await dialog.waitFor();
    // The notice blocks the call UI until accepted.
    await expect(page.locator('button[aria-label="Chat with everyone"]').click({ timeout: 500 })).rejects.toThrow();
    await dialog.locator('button[data-mdc-dialog-action="ok"]').click();
    await expect.poll(() => dialog.count()).toBe(0);

    // In the call.
    await page.locator('div[role="region"][aria-label="Call controls"]').waitFor();
    await page.locator('button[aria-label="People - 2 joined"]').waitFor();
    expect(await page.locator('[data-avatar-count]').count()).toBe(0);
    const aliceTile = page.locator('[data-participant-id]', { has: page.locator('span.notranslate', { hasText: 'Alice' }) });
    await aliceTile.waitFor();
    expect(await page.locator('[data-participant-id] [data-self-name]').textContent()).toBe('Notula Bot');
    expect(replica.participants(code).map((p) => p.name)).toEqual(['Alice', 'Notula Bot']);

    // Audio: one <audio> per remote participant, playing a live MediaStream.
    await page.waitForFunction(() => {
      const a = document.querySelector('audio');
      return !!a && a.srcObject instanceof MediaStream && a.srcObject.getAudioTracks().length > 0 && !a.paused;
    });
    await alice.waitForPeers(1);
    // Like a bot's capture: an analyser on every playing <audio>.
    await page.evaluate(() => {
      const ctx = new AudioContext();
      window.__maxRms = 0;
      for (const el of Array.from(document.querySelectorAll('audio'))) {
        const an = ctx.createAnalyser();
        an.fftSize = 2048;
        ctx.createMediaStreamSource(el.srcObject as MediaStream).connect(an);
        const buf = new Float32Array(an.fftSize);
        setInterval(() => {
          an.getFloatTimeDomainData(buf);
          const rms = Math.sqrt(buf.reduce((s, v) => s + v * v, 0) / buf.length);
          window.__maxRms = Math.max(window.__maxRms ?? 0, rms);
        }, 50);
      }
    });
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => window.__maxRms)).toBeLessThan(0.005); // silence before speaking
    await expect.poll(() => aliceTile.locator('.gjg47c').count()).toBe(1);

    const spoken = alice.speak(speech.path);
    await aliceTile.locator('.Oaajhc').waitFor({ timeout: 5000 });
    expect(await page.locator('[data-self-name]').locator('xpath=ancestor::*[@data-participant-id]').locator('.Oaajhc').count()).toBe(0);
    const { startedAt, endedAt } = await spoken;
    expect(endedAt - startedAt).toBeGreaterThan(speech.durationMs - 300);
    expect(endedAt - startedAt).toBeLessThan(speech.durationMs + 1500);
    await aliceTile.locator('.gjg47c').waitFor({ timeout: 3000 });
    expect(await page.evaluate(() => window.__maxRms)).toBeGreaterThan(0.02);
    // The page reports what it received (for the benchmarks): the whole line, nothing concealed but a little.
    await expect
      .poll(() => replica.receivedAudio(code, 'Notula Bot')?.totalSamplesReceived ?? 0, { timeout: 5000 })
      .toBeGreaterThan((speech.durationMs / 1000) * 48_000);
    const rx = replica.receivedAudio(code, 'Notula Bot')!;
    expect(rx.packetsReceived).toBeGreaterThan((speech.durationMs / 20) * 0.8);
    expect(rx.concealedSamples - rx.silentConcealedSamples).toBeLessThan(rx.totalSamplesReceived * 0.05);

    const energy = await page.evaluate(async () => {
      let total = 0;
      for (const pc of window.__pcs ?? []) {
        const stats = await pc.getStats();
        stats.forEach((s: { type: string; kind?: string; totalAudioEnergy?: number }) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio') total += s.totalAudioEnergy ?? 0;
        });
      }
      return total;
    });
    expect(energy).toBeGreaterThan(0);

    // Chat both ways, recorded by the replica.
    await page.locator('button[aria-label="Chat with everyone"]').click();
    await page.locator('textarea[aria-label="Send a message"]').fill('Hello from the notetaker');
    await page.locator('button[aria-label="Send a message"]').click();
    await alice.chat('Welcome!');
    await page.locator('.chat-panel', { hasText: 'Welcome!' }).waitFor();
    await expect.poll(() => replica.chatMessages(code).map((m) => [m.from, m.text])).toEqual([
      ['Notula Bot', 'Hello from the notetaker'],
      ['Alice', 'Welcome!'],
    ]);

    replica.remove(code, 'Notula Bot');
    await page.locator('.roSPhc', { hasText: "You've been removed from the meeting" }).waitFor();
    expect(await page.locator('audio').count()).toBe(0);
    expect(replica.participants(code).map((p) => p.name)).toEqual(['Alice']);
    await alice.leave();
    expect(replica.participants(code)).toEqual([]);
  });

  it('delivers audio to a bot that kept no microphone, from a participant who joins after it', async () => {
    const code = newMeeting({ lobby: false, mediaModal: 'none', toolbar: '2026', toggles: 'button', postJoinModal: 'none' });
    const page = await openBot(code);
    await preJoin(page, 'Notula Bot', 'Join now');
    await page.locator('button[aria-label="Chat with everyone"]').waitFor();
    await page.locator('[data-avatar-count="1"]').waitFor();
    const bob = await pool.join(replica.origin, code, 'Bob');
    await page.locator('[data-avatar-count="2"]').waitFor();
    await bob.waitForPeers(1);
    const bobTile = page.locator('[data-participant-id]', { has: page.locator('span.notranslate', { hasText: 'Bob' }) });
    const spoken = bob.speak(speech.path);
    await bobTile.locator('.Oaajhc').waitFor({ timeout: 5000 });
    await spoken;
    await bobTile.locator('.gjg47c').waitFor({ timeout: 3000 });
    await bob.leave();
    await page.locator('[data-avatar-count="1"]').waitFor();
    await expect.poll(() => page.locator('audio').count()).toBe(0);
  });

  it('denies a knock', async () => {
    const code = newMeeting({ lobby: true, mediaModal: 'use-mic-cam', toolbar: '2025', toggles: 'button', postJoinModal: 'none' });
    const page = await openBot(code);
    expect(await page.getByText('Continue without microphone and camera').count()).toBe(0);
    await page.locator('button[aria-label="Use microphone and camera"]').click();
    await preJoin(page, 'Notula Bot', 'Ask to join');
    await replica.waitForKnock(code, 5000);
    replica.deny(code, 'Notula Bot');
    await text(page, 'Someone in the call denied your request to join').waitFor();
    expect(replica.knocks(code)).toEqual([]);
  });

  it('times out an unanswered knock', async () => {
    const code = newMeeting({ lobby: true, mediaModal: 'none', toolbar: '2026', toggles: 'div', postJoinModal: 'none', lobbyTimeoutMs: 1000, lobbyReturnButton: false });
    const page = await openBot(code);
    await preJoin(page, 'Notula Bot', 'Ask to join');
    await text(page, 'Asking to be let in...').waitFor();
    expect(await page.getByText('Return to home screen').count()).toBe(0);
    await text(page, 'No one responded to your request to join the call').waitFor({ timeout: 5000 });
  });

  it('shows the host ending the meeting, after a "Got it" modal', async () => {
    const code = newMeeting({ lobby: false, mediaModal: 'continue-without', toolbar: '2026', toggles: 'div', postJoinModal: 'got-it', joinText: 'Join anyway' });
    await pool.join(replica.origin, code, 'Carol');
    const page = await openBot(code);
    await page.locator('button', { hasText: 'Continue without microphone and camera' }).click();
    await preJoin(page, 'Notula Bot', 'Join anyway');
    await page.locator('button', { has: page.locator('span', { hasText: 'Got it' }) }).click();
    await page.locator('[data-avatar-count="2"]').waitFor();
    expect(await page.locator('button[aria-label^="People"]').count()).toBe(0);
    replica.end(code);
    await page.locator('.roSPhc', { hasText: 'Your host ended the meeting for everyone' }).waitFor();
    expect(replica.participants(code)).toEqual([]);
  });

  it('shows leaving, blocking and unknown codes', async () => {
    const open = newMeeting({ lobby: false, mediaModal: 'none', toolbar: '2025', toggles: 'button', postJoinModal: 'none' });
    const page = await openBot(open);
    await preJoin(page, 'Notula Bot', 'Join now');
    await page.locator('button[aria-label="People - 1 joined"]').waitFor();
    await page.locator('button[aria-label="Leave call"]').click();
    await text(page, 'You left the meeting').waitFor();
    expect(await page.getByText('Return to home screen').count()).toBe(1);
    expect(replica.participants(open)).toEqual([]);

    const blocked = newMeeting({ lobby: true, mediaModal: 'none', toolbar: '2025', toggles: 'div', postJoinModal: 'none', blocked: true, joinText: 'Ask to join anyway' });
    const page2 = await openBot(blocked);
    await preJoin(page2, 'Notula Bot', 'Ask to join anyway');
    await text(page2, "You can't join this video call").waitFor();

    const page3 = await openBot('xyz-wxyz-xyz');
    await text(page3, 'Check your meeting code').waitFor();
    expect(await page3.locator('input[aria-label="Your name"]').count()).toBe(0);
  });
});
