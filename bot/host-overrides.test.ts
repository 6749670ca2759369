import { describe, expect, it } from 'vitest';
import { applyHostOverride, isOnHost } from './host-overrides.js';

const overrides = new Map([
  ['meet.google.com', 'http://127.0.0.1:9101'],
  ['zoom.us', 'http://127.0.0.1:9103'],
  ['app.zoom.us', 'http://127.0.0.1:9104'],
]);

describe('applyHostOverride', () => {
  it.each([
    ['https://meet.google.com/abc-defg-hij?hl=en', 'http://127.0.0.1:9101/abc-defg-hij?hl=en'],
    ['https://zoom.us/wc/join/123456789?pwd=x', 'http://127.0.0.1:9103/wc/join/123456789?pwd=x'],
    ['https://us02web.zoom.us/j/123456789', 'http://127.0.0.1:9103/j/123456789'],
    ['https://app.zoom.us/wc/123456789/join', 'http://127.0.0.1:9104/wc/123456789/join'],
    ['https://teams.microsoft.com/meet/123?p=x', 'https://teams.microsoft.com/meet/123?p=x'],
  ])('%s → %s', (from, to) => {
    expect(applyHostOverride(from, overrides)).toBe(to);
  });

  it('never rewrites an address, such as the bot process\'s own Zoom Meeting SDK page', () => {
    const all = new Map([...overrides, ['127.0.0.1', 'http://127.0.0.1:9999'], ['0.0.1', 'http://127.0.0.1:9998'], ['0.1', 'http://127.0.0.1:9997']]);
    expect(applyHostOverride('http://127.0.0.1:40123/meeting', all)).toBe('http://127.0.0.1:40123/meeting');
    expect(applyHostOverride('http://[::1]:40123/meeting', all)).toBe('http://[::1]:40123/meeting');
  });

  it('leaves URLs alone without overrides', () => {
    expect(applyHostOverride('https://meet.google.com/abc-defg-hij', new Map())).toBe('https://meet.google.com/abc-defg-hij');
  });
});

describe('isOnHost', () => {
  it('accepts the real host and the override origin, nothing else', () => {
    expect(isOnHost('https://meet.google.com/abc', 'meet.google.com', overrides)).toBe(true);
    expect(isOnHost('http://127.0.0.1:9101/abc', 'meet.google.com', overrides)).toBe(true);
    expect(isOnHost('https://accounts.google.com/signin', 'meet.google.com', overrides)).toBe(false);
    expect(isOnHost('http://127.0.0.1:9999/abc', 'meet.google.com', overrides)).toBe(false);
  });
});
