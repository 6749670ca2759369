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
    [{ BOT_HEARTBEAT_INTERVAL_S: '10', BOT_HEARTBEAT_STALE_S: '15' }, 'BOT_HEARTBEAT_STALE_S'],
    [{ BOT_SWEEP_INTERVAL_S: '0' }, 'BOT_SWEEP_INTERVAL_S'],
  ])('fails naming the variable for %j', (env, name) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`${name}:`));
  });

  it('parses host overrides into origins', () => {
    const c = loadConfig({ BOT_HOST_OVERRIDES: 'meet.google.com=http://127.0.0.1:9101/, zoom.us=http://127.0.0.1:9103' });
    expect(c.BOT_HOST_OVERRIDES.get('meet.google.com')).toBe('http://127.0.0.1:9101');
    expect(c.BOT_HOST_OVERRIDES.get('zoom.us')).toBe('http://127.0.0.1:9103');
  });

  it('refuses the test hook in production', () => {
    expect(() =>
      loadConfig({ NODE_ENV: 'production', ENCRYPTION_KEY: 'k', PUBLIC_URL: 'https://x.example', BOT_HOST_OVERRIDES: 'meet.google.com=http://127.0.0.1:1' }),
    ).toThrow(/BOT_HOST_OVERRIDES/);
  });
});
