/**
 * The local page the Meeting SDK runs in: a tiny HTTP server on 127.0.0.1 (a random port,
 * started on first use and shared by every bot of the process) that serves
 * - `/meeting`: loads the SDK's scripts and the bridge (bridge.ts);
 * - `/left`: the SDK's leaveUrl, which keeps the bridge's last state;
 * - `/sdk/…`: the SDK's assets (wasm, workers, vendor libraries, languages) from
 *   node_modules/@zoom/meetingsdk/dist, so they need not come from Zoom's CDN.
 * Every response is cross-origin isolated (COOP same-origin, COEP require-corp, CORP
 * same-origin): the SDK needs SharedArrayBuffer (research/platform-mechanics.md §3.3).
 *
 * Where the SDK comes from is a constructor option, so tests serve a stand-in `ZoomMtg`.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from '../../../lib/log.js';
import { ZOOM_SDK_BRIDGE } from './bridge.js';

export interface SdkAssets {
  /** Directory served under `/sdk/` (for the real SDK: its `dist/`, which holds `lib/av`, `lib/vendor`, `lib/lang`, `ui/`). */
  dir: string;
  /** Scripts `/meeting` loads, in order, relative to `dir`; a query string is passed through to the page. */
  scripts: string[];
}

/** The installed @zoom/meetingsdk's Client View bundle and the vendor libraries it expects as globals. */
export function installedSdkAssets(): SdkAssets {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('@zoom/meetingsdk/package.json');
  const { version } = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string };
  return {
    dir: path.join(path.dirname(pkgFile), 'dist'),
    scripts: [
      'lib/vendor/react.min.js',
      'lib/vendor/react-dom.min.js',
      'lib/vendor/redux.min.js',
      'lib/vendor/redux-thunk.min.js',
      'lib/vendor/lodash.min.js',
      `zoom-meeting-${version}.min.js`,
    ],
  };
}

/** Headers that make the page cross-origin isolated; assets get them too (workers inherit nothing). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
} as const;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.cur': 'image/x-icon',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
};

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function pageHtml(scripts: string[]): string {
  const tags = scripts.map((s) => `    <script src="/sdk/${escapeAttr(s.replace(/^\/+/, ''))}"></script>`).join('\n');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Zoom</title>
${tags}
    <script src="/bridge.js"></script>
  </head>
  <body></body>
</html>
`;
}

const LEFT_HTML = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Left the meeting</title><script src="/bridge.js"></script></head>
  <body><p>Left the meeting.</p></body>
</html>
`;

export interface ZoomSdkPageServerOptions {
  /** Where the SDK comes from; the installed @zoom/meetingsdk by default. */
  assets?: SdkAssets;
  log?: Logger;
}

export class ZoomSdkPageServer {
  private readonly assets: SdkAssets;
  private readonly root: string;
  private readonly html: string;
  private server: http.Server | undefined;
  private starting: Promise<string> | undefined;

  constructor(private readonly opts: ZoomSdkPageServerOptions = {}) {
    this.assets = opts.assets ?? installedSdkAssets();
    this.root = path.resolve(this.assets.dir);
    this.html = pageHtml(this.assets.scripts);
  }

  /** `http://127.0.0.1:<port>`, starting the server on first use (concurrent callers share one start). */
  origin(): Promise<string> {
    this.starting ??= new Promise<string>((resolve, reject) => {
      const server = http.createServer((req, res) => this.handle(req, res));
      server.once('error', (err) => {
        this.starting = undefined;
        reject(err);
      });
      server.listen(0, '127.0.0.1', () => {
        this.server = server;
        const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        this.opts.log?.debug({ origin }, 'Zoom Meeting SDK page server listening');
        resolve(origin);
      });
    });
    return this.starting;
  }

  /** The page a bot opens. */
  async meetingPageUrl(): Promise<string> {
    return `${await this.origin()}/meeting`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.starting = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return send(400, 'text/plain; charset=utf-8', 'bad request\n');
    }
    const noStore = { 'cache-control': 'no-store' };
    if (pathname === '/meeting') return send(200, 'text/html; charset=utf-8', this.html, noStore);
    if (pathname === '/left') return send(200, 'text/html; charset=utf-8', LEFT_HTML, noStore);
    if (pathname === '/bridge.js') return send(200, 'text/javascript; charset=utf-8', ZOOM_SDK_BRIDGE, noStore);
    if (pathname.startsWith('/sdk/')) return this.sendAsset(pathname.slice('/sdk/'.length), req, res, send);
    if (pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
    return send(404, 'text/plain; charset=utf-8', 'not found\n');
  }

  private sendAsset(relative: string, req: http.IncomingMessage, res: http.ServerResponse, send: (s: number, t: string, b: string) => void): void {
    const file = path.resolve(this.root, relative);
    // Only files inside the asset directory, never `..` out of it.
    if (!file.startsWith(this.root + path.sep)) return send(404, 'text/plain; charset=utf-8', 'not found\n');
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return send(404, 'text/plain; charset=utf-8', 'not found\n');
      size = st.size;
    } catch {
      return send(404, 'text/plain; charset=utf-8', 'not found\n');
    }
    res.writeHead(200, {
      ...ISOLATION_HEADERS,
      'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(size),
      // The assets are fixed per SDK version.
      'cache-control': 'public, max-age=86400',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }
}
