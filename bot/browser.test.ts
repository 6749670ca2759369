/**
 * Browser hygiene (research/platform-mechanics.md §0 "Avoid these"): what a meeting page can
 * see of the bot's Chromium, headful under Xvfb (production) and headless.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { ChromiumLauncher } from './browser.js';
import { ensureDisplay, type DisplayHandle } from './display/xvfb.js';
import { MeetAdapter } from './platforms/meet/meet-adapter.js';
import { parseMeetingUrl, type MeetingRef } from '../lib/meeting-url.js';

let server: http.Server;
let origin: string;
let display: DisplayHandle;
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>probe</title>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  display = await ensureDisplay({ log: silentLogger });
});

afterAll(async () => {
  await display?.stop();
  await new Promise((r) => server.close(r));
});

/** The browser process's own command line (the one with --remote-debugging-pipe). */
function browserCommandLines(): string[] {
  const lines: string[] = [];
  for (const pid of readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes('--remote-debugging-pipe')) lines.push(cmd);
    } catch {
      // exited
    }
  }
  return lines;
}

describe.each([
  ['headful under Xvfb', false],
  ['headless', true],
])('the bot browser, %s', (_label, headless) => {
  it('shows a page no automation tell, and a user agent that agrees with its client hints', async () => {
    const session = await new ChromiumLauncher().launch({
      executablePath: '/usr/bin/chromium',
      headless,
      sandbox: false,
      display: display.display,
      env: {},
    });
    try {
      seen.length = 0;
      await session.page.goto(origin);
      const nav = await session.page.evaluate(() => ({
        webdriver: navigator.webdriver,
        userAgent: navigator.userAgent,
        brands: (navigator as Navigator & { userAgentData?: { brands: { brand: string; version: string }[] } }).userAgentData?.brands ?? [],
        languages: [...navigator.languages],
      }));
      expect(nav.webdriver).toBe(false);
      expect(nav.userAgent).not.toMatch(/Headless/i);
      const uaMajor = /Chrome\/(\d+)\./.exec(nav.userAgent)?.[1];
      expect(uaMajor).toBeTruthy();
      expect(nav.brands.find((b) => b.brand === 'Chromium')?.version).toBe(uaMajor);
      expect(nav.languages[0]).toBe('en-US');

      const headers = seen[0]!;
      expect(headers['user-agent']).toBe(nav.userAgent);
      expect(headers['sec-ch-ua']).toContain(`"Chromium";v="${uaMajor}"`);
      expect(headers['sec-ch-ua']).not.toMatch(/Headless/i);
      expect(String(headers['accept-language'])).toMatch(/^en-US\b/);

      const cmd = browserCommandLines().join('\n');
      expect(cmd).toContain('--lang=en-US');
      for (const flag of ['--enable-automation', '--disable-web-security', '--ignore-certificate-errors', '--allow-running-insecure-content', '--mute-audio']) {
        expect(cmd).not.toContain(flag);
      }
    } finally {
      await session.close();
    }
  });
});

it('opens Meet in English', () => {
  const parsed = parseMeetingUrl('https://meet.google.com/abc-defg-hij?authuser=1');
  expect(parsed.ok).toBe(true);
  const url = new URL(new MeetAdapter().navigationUrl((parsed as { meeting: MeetingRef }).meeting));
  expect(url.searchParams.get('hl')).toBe('en');
  expect(url.pathname).toBe('/abc-defg-hij');
});
