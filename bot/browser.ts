/**
 * Launches the bot's Chromium (Debian's, through playwright-core). Production flags carry no
 * automation tells (research/platform-mechanics.md §0 "Avoid these"): no --enable-automation,
 * navigator.webdriver false, the browser's own user agent (so it matches its client hints),
 * English UI. Audio goes to the bot's PulseAudio sink through PULSE_SINK in its environment.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export interface BrowserLaunchOptions {
  executablePath: string;
  headless: boolean;
  sandbox: boolean;
  /** X display for headful mode. */
  display?: string;
  /** Environment for the browser process: PulseAudio server and sink. */
  env: Record<string, string>;
}

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Resolves when the browser process is gone (crash or close). */
  closed: Promise<void>;
  close(): Promise<void>;
}

export interface BrowserLauncher {
  launch(opts: BrowserLaunchOptions): Promise<BrowserSession>;
}

/** Flags for every launch. The first four keep Chromium off the network it has no use for. */
export function chromiumArgs(opts: Pick<BrowserLaunchOptions, 'sandbox'>): string[] {
  return [
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--no-default-browser-check',
    '--lang=en-US',
    '--window-size=1280,800',
    '--autoplay-policy=no-user-gesture-required',
    // Chromium's PulseAudio output defaults to 512-frame (~10 ms) buffers. When the machine
    // is busy its audio service misses them and the sink plays silence in their place: at 3
    // bots on 2 cores, ~1,500 underruns a minute took the live WER from ~15 % to 24–35 %.
    // 1024 frames (21 ms): at 3 bots WER 17–20 %, Chromium's CPU per bot 7.3 → 6.1 s/min,
    // and a lone bot's line-to-transcript delay stays ~275 ms (2048 frames did as well
    // at 3 bots but added ~300 ms to every delay: the sink ran with a longer latency).
    '--audio-buffer-size=1024',
    // Accept the page's own mic/camera prompt without a dialog; the bot turns both off.
    '--use-fake-ui-for-media-stream',
    '--disable-blink-features=AutomationControlled',
    // Listening needs no GPU; keep rendering in-process and cheap.
    '--disable-gpu',
    '--in-process-gpu',
    ...(opts.sandbox ? [] : ['--no-sandbox']),
  ];
}

export class ChromiumLauncher implements BrowserLauncher {
  async launch(opts: BrowserLaunchOptions): Promise<BrowserSession> {
    const env: Record<string, string> = { ...opts.env };
    if (!opts.headless && opts.display) env.DISPLAY = opts.display;
    const browser = await chromium.launch({
      executablePath: opts.executablePath,
      headless: opts.headless,
      args: chromiumArgs(opts),
      ignoreDefaultArgs: ['--enable-automation', '--mute-audio'],
      env,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const closed = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()));
    const context = await browser.newContext({
      locale: 'en-US',
      viewport: { width: 1280, height: 720 },
      ...(opts.headless ? { userAgent: await headfulUserAgent(browser) } : {}),
    });
    const page = await context.newPage();
    return {
      browser,
      context,
      page,
      closed,
      close: async () => {
        await browser.close().catch(() => undefined);
      },
    };
  }
}

/**
 * Headless Chromium says `HeadlessChrome/…` in its user agent, a plain tell. Its client
 * hints (Sec-CH-UA, navigator.userAgentData) already name Chromium, so the headful
 * spelling of the same agent — read from the browser itself, not hard-coded — keeps the two
 * consistent (research/platform-mechanics.md §0: a UA that contradicts the hints invites a
 * captcha).
 */
async function headfulUserAgent(browser: Browser): Promise<string> {
  const probe = await browser.newPage();
  try {
    return (await probe.evaluate(() => navigator.userAgent)).replace('HeadlessChrome/', 'Chrome/');
  } finally {
    await probe.context().close();
  }
}
