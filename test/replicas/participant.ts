/**
 * Test participants for the replicas (Meet, Teams, Zoom): pages of a separate headless
 * Chromium that join a replica meeting directly as its host (no lobby) through the replica's
 * `/__replica/participant/<code>?name=…` page and can speak WAV files over their WebRTC audio
 * track. Several participants share one browser (one context each). The same browser hosts
 * helper pages a replica needs, such as the Teams and Zoom replicas' mixers.
 */
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const PARTICIPANT_BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
  // mDNS (.local) host candidates cannot be resolved here; exposing this side's real
  // address is enough for ICE with a peer that does hide its own (a bot).
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export interface Participant {
  name: string;
  /** Streams the WAV over this participant's audio track; resolves when playback ended (epoch ms). */
  speak(wavPath: string): Promise<{ startedAt: number; endedAt: number }>;
  /** Sends a chat message as this participant. */
  chat(text: string): Promise<void>;
  /** Resolves once WebRTC connections to at least `count` others are up. */
  waitForPeers(count: number, timeoutMs?: number): Promise<void>;
  leave(): Promise<void>;
}

export interface ParticipantPool {
  /** The participants' browser; a replica may open its own media pages there (the Teams mixer). */
  readonly browser: Browser;
  join(replicaOrigin: string, code: string, name: string): Promise<Participant>;
  /** Opens a helper page (e.g. the Zoom replica's conference mixer) in its own context; closed with the pool. */
  openPage(url: string): Promise<{ page: Page; close(): Promise<void> }>;
  close(): Promise<void>;
}

interface PageApi {
  state: string;
  speak(url: string): Promise<{ startedAt: number; endedAt: number }>;
  chat(text: string): void;
  leave(): void;
  peers(): number;
}
declare global {
  interface Window {
    __participant?: PageApi;
  }
}

export interface ParticipantPoolOptions {
  /**
   * Meet replica voices that cost less (benchmarks): no audio output device, larger render
   * buffers, and no media between test participants — only to the guests (the bots). A
   * participant's `waitForPeers` then counts guests only.
   */
  light?: boolean;
}

export async function launchParticipants(opts: ParticipantPoolOptions = {}): Promise<ParticipantPool> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: PARTICIPANT_BROWSER_ARGS,
  });
  const contexts = new Set<BrowserContext>();

  async function join(replicaOrigin: string, code: string, name: string): Promise<Participant> {
    const context = await browser.newContext();
    contexts.add(context);
    try {
      const page: Page = await context.newPage();
      // speak() hands the page a URL on the replica's origin that Playwright answers from disk.
      const wavs = new Map<string, string>();
      await page.route('**/__replica/wav/*', async (route) => {
        const token = new URL(route.request().url()).pathname.split('/').pop() ?? '';
        const file = wavs.get(token);
        if (file) await route.fulfill({ path: file, contentType: 'audio/wav' });
        else await route.fulfill({ status: 404, body: 'unknown wav' });
      });
      const origin = replicaOrigin.replace(/\/+$/, '');
      await page.goto(`${origin}/__replica/participant/${encodeURIComponent(code)}?name=${encodeURIComponent(name)}${opts.light ? '&light=1' : ''}`);
      const state = await page
        .waitForFunction(() => window.__participant && window.__participant.state !== 'connecting' && window.__participant.state, null, {
          timeout: 15_000,
        })
        .then((h) => h.jsonValue());
      if (state !== 'incall') throw new Error(`participant ${name} could not join ${code}: ${String(state)}`);

      let left = false;
      return {
        name,
        async speak(wavPath) {
          const token = randomBytes(8).toString('hex');
          wavs.set(token, wavPath);
          try {
            return await page.evaluate((url) => window.__participant!.speak(url), `${origin}/__replica/wav/${token}`);
          } finally {
            wavs.delete(token);
          }
        },
        async chat(text) {
          await page.evaluate((t) => window.__participant!.chat(t), text);
        },
        async waitForPeers(count, timeoutMs = 15_000) {
          await page.waitForFunction((n) => window.__participant!.peers() >= n, count, { timeout: timeoutMs });
        },
        async leave() {
          if (left) return;
          left = true;
          await page.evaluate(() => window.__participant?.leave()).catch(() => {});
          await context.close();
          contexts.delete(context);
        },
      };
    } catch (err) {
      await context.close().catch(() => {});
      contexts.delete(context);
      throw err;
    }
  }

  async function openPage(url: string) {
    const context = await browser.newContext();
    contexts.add(context);
    try {
      const page = await context.newPage();
      await page.goto(url);
      return {
        page,
        async close() {
          contexts.delete(context);
          await context.close().catch(() => {});
        },
      };
    } catch (err) {
      contexts.delete(context);
      await context.close().catch(() => {});
      throw err;
    }
  }

  return {
    browser,
    join,
    openPage,
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      contexts.clear();
      await browser.close();
    },
  };
}
