import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies safe defaults', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3001);
    expect(c.DATA_DIR).toBe('./data');
    expect(c.BOT_HEADLESS).toBe(false);
    expect(c.PUBLIC_URL).toBe('http://localhost:3001');
    expect(c.BOT_HOST_OVERRIDES.size).toBe(0);
    // A worker is declared lost after 90 s without a heartbeat (sent every 10 s), checked every 15 s.
    expect([c.BOT_HEARTBEAT_INTERVAL_S, c.BOT_HEARTBEAT_STALE_S, c.BOT_SWEEP_INTERVAL_S]).toEqual([10, 90, 15]);
  });

  it('coerces numbers and booleans', () => {
    const c = loadConfig({ PORT: '8080', BOT_HEADLESS: 'true', BOT_CONCURRENCY: '4' });
    expect(c.PORT).toBe(8080);
    expect(c.BOT_HEADLESS).toBe(true);
    expect(c.BOT_CONCURRENCY).toBe(4);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ BOT_HEADLESS: 'maybe' }, 'BOT_HEADLESS'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ BOT_HOST_OVERRIDES: 'meet.google.com' }, 'BOT_HOST_OVERRIDES'],
    [{ NODE_ENV: 'production', PUBLIC_URL: 'https://n.example.com' }, 'ENCRYPTION_KEY'],
    [{ NODE_ENV: 'production', ENCRYPTION_KEY: 'x' }, 'PUBLIC_URL'],
    [{ ZOOM_SDK_KEY: 'client-id' }, 'ZOOM_SDK_SECRET'],
    [{ ZOOM_SDK_SECRET: 'client-secret' }, 'ZOOM_SDK_KEY'],
    [{ ZOOM_SDK_KEY: '   ', ZOOM_SDK_SECRET: 'client-secret' }, 'ZOOM_SDK_KEY'],
    [{ GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com' }, 'GOOGLE_CLIENT_SECRET'],
    [{ MICROSOFT_CLIENT_SECRET: 's' }, 'MICROSOFT_CLIENT_ID'],
    [{ MICROSOFT_GRAPH_BASE_URL: 'http://graph.example' }, 'MICROSOFT_GRAPH_BASE_URL'],
    [{ GOOGLE_API_ROOT_URL: 'not a url' }, 'GOOGLE_API_ROOT_URL'],
    [{ CALENDAR_JOIN_LEAD_S: '-5' }, 'CALENDAR_JOIN_LEAD_S'],
    [{ MICROSOFT_TENANT: 'a/b' }, 'MICROSOFT_TENANT'],
    [{ BOT_HEARTBEAT_INTERVAL_S: '10', BOT_HEARTBEAT_STALE_S: '15' }, 'BOT_HEARTBEAT_STALE_S'],
    [{ BOT_SWEEP_INTERVAL_S: '0' }, 'BOT_SWEEP_INTERVAL_S'],
  ])('fails naming the variable for %j', (env, name) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`${name}:`));
  });

  it('leaves calendar providers off without credentials and points them at the real endpoints', () => {
    const c = loadConfig({ GOOGLE_CLIENT_ID: '', GOOGLE_CLIENT_SECRET: '' });
    expect(c.GOOGLE_CLIENT_ID).toBeUndefined();
    expect(c.MICROSOFT_CLIENT_ID).toBeUndefined();
    expect(c.GOOGLE_API_ROOT_URL).toBe('https://www.googleapis.com/');
    expect(c.GOOGLE_OAUTH_BASE_URL).toBeUndefined();
    expect(c.MICROSOFT_GRAPH_BASE_URL).toBe('https://graph.microsoft.com');
    expect(c.MICROSOFT_LOGIN_BASE_URL).toBe('https://login.microsoftonline.com');
    expect(c.CALENDAR_JOIN_LEAD_S).toBe(60);
  });

  it('parses host overrides into origins', () => {
    const c = loadConfig({ BOT_HOST_OVERRIDES: 'meet.google.com=http://127.0.0.1:9101/, zoom.us=http://127.0.0.1:9103' });
    expect(c.BOT_HOST_OVERRIDES.get('meet.google.com')).toBe('http://127.0.0.1:9101');
    expect(c.BOT_HOST_OVERRIDES.get('zoom.us')).toBe('http://127.0.0.1:9103');
  });

  it('takes the Zoom Meeting SDK credentials as a pair, and neither by default', () => {
    expect(loadConfig({}).ZOOM_SDK_KEY).toBeUndefined();
    const c = loadConfig({ ZOOM_SDK_KEY: 'client-id', ZOOM_SDK_SECRET: 'client-secret' });
    expect([c.ZOOM_SDK_KEY, c.ZOOM_SDK_SECRET]).toEqual(['client-id', 'client-secret']);
  });

  it('refuses the test hook in production', () => {
    expect(() =>
      loadConfig({ NODE_ENV: 'production', ENCRYPTION_KEY: 'k', PUBLIC_URL: 'https://x.example', BOT_HOST_OVERRIDES: 'meet.google.com=http://127.0.0.1:1' }),
    ).toThrow(/BOT_HOST_OVERRIDES/);
  });
});
