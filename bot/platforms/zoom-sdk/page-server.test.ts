/**
 * The local SDK page server over real HTTP: cross-origin isolation headers on the page and
 * on every asset, the page loading the SDK's scripts then the bridge, assets from the SDK
 * directory (and nothing outside it), one lazily started server shared by all callers, and
 * the installed @zoom/meetingsdk providing every script the page names.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedSdkAssets, ZoomSdkPageServer } from './page-server.js';

let dir: string;
let server: ZoomSdkPageServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'notula-sdk-assets-'));
  await mkdir(path.join(dir, 'lib', 'av'), { recursive: true });
  await writeFile(path.join(dir, 'fake-sdk.js'), 'window.ZoomMtg = {};\n');
  await writeFile(path.join(dir, 'lib', 'av', 'audio.simd.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  await writeFile(path.join(path.dirname(dir), `${path.basename(dir)}-secret.txt`), 'outside');
  server = new ZoomSdkPageServer({ assets: { dir, scripts: ['lib/first.js', 'fake-sdk.js?control=http://127.0.0.1:9&x="y"'] } });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(path.join(path.dirname(dir), `${path.basename(dir)}-secret.txt`), { force: true });
});

const isolated = (res: Response) => ({
  coop: res.headers.get('cross-origin-opener-policy'),
  coep: res.headers.get('cross-origin-embedder-policy'),
  corp: res.headers.get('cross-origin-resource-policy'),
});
const ISOLATED = { coop: 'same-origin', coep: 'require-corp', corp: 'same-origin' };

describe('ZoomSdkPageServer', () => {
  it('starts once, lazily, on 127.0.0.1, for every caller', async () => {
    const [a, b] = await Promise.all([server.origin(), server.origin()]);
    expect(a).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(b).toBe(a);
    expect(await server.meetingPageUrl()).toBe(`${a}/meeting`);
  });

  it('serves the meeting page cross-origin isolated, loading the SDK scripts in order and then the bridge', async () => {
    const res = await fetch(await server.meetingPageUrl());
    expect(res.status).toBe(200);
    expect(isolated(res)).toEqual(ISOLATED);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    const srcs = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs).toEqual(['/sdk/lib/first.js', '/sdk/fake-sdk.js?control=http://127.0.0.1:9&amp;x=&quot;y&quot;', '/bridge.js']);
  });

  it('serves the bridge, the leave page and the assets with the isolation headers and their types', async () => {
    const origin = await server.origin();
    const bridge = await fetch(`${origin}/bridge.js`);
    expect(isolated(bridge)).toEqual(ISOLATED);
    expect(bridge.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await bridge.text()).toContain('__notulaZoomState');

    const left = await fetch(`${origin}/left`);
    expect(isolated(left)).toEqual(ISOLATED);
    expect(await left.text()).toContain('/bridge.js');

    const script = await fetch(`${origin}/sdk/fake-sdk.js?control=x`);
    expect(isolated(script)).toEqual(ISOLATED);
    expect(await script.text()).toBe('window.ZoomMtg = {};\n');

    const wasm = await fetch(`${origin}/sdk/lib/av/audio.simd.wasm`);
    expect(isolated(wasm)).toEqual(ISOLATED);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(Buffer.from(await wasm.arrayBuffer())).toEqual(Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  });

  it('serves nothing outside the asset directory', async () => {
    const origin = await server.origin();
    const secret = `${path.basename(dir)}-secret.txt`;
    // Raw paths, as a client that does not normalise them would send them.
    for (const p of [`/sdk/../${secret}`, `/sdk/..%2f${secret}`, `/sdk/%2e%2e%2f${secret}`, '/sdk/lib', '/sdk/missing.js', '/etc/passwd', '/']) {
      const res = await rawGet(origin, p);
      expect(res.status, p).toBe(404);
      expect(res.body).not.toContain('outside');
    }
    expect((await fetch(`${origin}/meeting`, { method: 'POST' })).status).toBe(405);
  });

  it('stops, and starts again on the next use', async () => {
    const before = await server.origin();
    await server.close();
    await expect(fetch(`${before}/meeting`)).rejects.toThrow();
    const after = await server.origin();
    expect((await fetch(`${after}/meeting`)).status).toBe(200);
  });
});

function rawGet(origin: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path: rawPath }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('installedSdkAssets', () => {
  it('names scripts the installed @zoom/meetingsdk really ships, ending with its Client View bundle', () => {
    const assets = installedSdkAssets();
    for (const s of assets.scripts) expect(existsSync(path.join(assets.dir, s)), s).toBe(true);
    expect(assets.scripts.at(-1)).toBe('zoom-meeting-6.2.0.min.js');
    expect(existsSync(path.join(assets.dir, 'lib', 'av'))).toBe(true);
  });
});
