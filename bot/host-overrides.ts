/**
 * BOT_HOST_OVERRIDES: the browser navigates to the override origin instead of the platform's
 * real host, keeping path and query. Meeting URLs keep their real form everywhere else.
 */
import { isIP } from 'node:net';

export type HostOverrides = ReadonlyMap<string, string>;

/** The override origin for a host: exact match first, then its parent domains (us02web.zoom.us → zoom.us). */
function overrideFor(host: string, overrides: HostOverrides): string | undefined {
  const labels = host.toLowerCase().split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const origin = overrides.get(labels.slice(i).join('.'));
    if (origin) return origin;
  }
  return undefined;
}

/**
 * Overrides name platform hosts; an address (a page the bot process serves on 127.0.0.1, such
 * as the Zoom Meeting SDK page) is never rewritten.
 */
export function applyHostOverride(url: string, overrides: HostOverrides): string {
  if (overrides.size === 0) return url;
  const u = new URL(url);
  if (isIP(u.hostname.replace(/^\[|\]$/g, '')) !== 0) return url;
  const origin = overrideFor(u.hostname, overrides);
  return origin ? new URL(`${u.pathname}${u.search}${u.hash}`, origin).toString() : url;
}

/** Whether a page URL is on the platform host (or its override origin), e.g. to notice a bounce to a sign-in page. */
export function isOnHost(pageUrl: string, realHost: string, overrides: HostOverrides): boolean {
  let u: URL;
  try {
    u = new URL(pageUrl);
  } catch {
    return false;
  }
  if (u.hostname === realHost || u.hostname.endsWith(`.${realHost}`)) return true;
  const origin = overrideFor(realHost, overrides);
  return origin !== undefined && u.origin === origin;
}
