/**
 * Public identifiers: a type prefix and 26 Crockford-base32 characters (48 bits of time, 80
 * random), so they sort by creation and say what they point at (`bot_01J…`).
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix = 'bot' | 'usr' | 'ws' | 'key' | 'ses' | 'art' | 'par' | 'aud' | 'whe' | 'whd' | 'evt' | 'cal' | 'cev' | 'doc' | 'note';

export function newId(prefix: IdPrefix, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(10);
  let rand = '';
  let acc = 0;
  let bits = 0;
  for (const byte of rnd) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      rand += ALPHABET[(acc >> (bits - 5)) & 31]!;
      bits -= 5;
    }
  }
  return `${prefix}_${time}${rand}`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`).test(value);
}
