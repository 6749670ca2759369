import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertValidKey, FsRecordingStore } from './store.js';

let dir: string;
let store: FsRecordingStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'notula-store-'));
  store = new FsRecordingStore(path.join(dir, 'root'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FsRecordingStore', () => {
  it('puts a file, stats and reads it whole or by inclusive range', async () => {
    const src = path.join(dir, 'src.ogg');
    await writeFile(src, '0123456789');
    expect(await store.put('bots/bot_1/recording.ogg', src)).toEqual({ sizeBytes: 10 });
    expect(await store.stat('bots/bot_1/recording.ogg')).toEqual({ sizeBytes: 10 });
    expect(await text(store.read('bots/bot_1/recording.ogg'))).toBe('0123456789');
    expect(await text(store.read('bots/bot_1/recording.ogg', { start: 2, end: 4 }))).toBe('234');
    expect(await text(store.read('bots/bot_1/recording.ogg', { start: 9, end: 9 }))).toBe('9');
  });

  it('overwrites atomically and leaves no temporary files', async () => {
    await store.putBytes('bots/bot_2/screens/a.png', Buffer.from('first'));
    await store.putBytes('bots/bot_2/screens/a.png', Buffer.from('second!'));
    expect(await store.stat('bots/bot_2/screens/a.png')).toEqual({ sizeBytes: 7 });
    expect(await readdir(path.join(dir, 'root', 'bots', 'bot_2', 'screens'))).toEqual(['a.png']);
  });

  it('cleans up the temporary file when the source is missing', async () => {
    await expect(store.put('bots/bot_3/x.ogg', path.join(dir, 'nope'))).rejects.toThrow();
    expect(await readdir(path.join(dir, 'root', 'bots', 'bot_3'))).toEqual([]);
    expect(await store.stat('bots/bot_3/x.ogg')).toBeNull();
  });

  it('returns null for missing keys and errors on the stream when reading one', async () => {
    expect(await store.stat('bots/none/recording.ogg')).toBeNull();
    expect(await store.stat('bots')).toBeNull(); // a directory is not an object
    await expect(text(store.read('bots/none/recording.ogg'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('deletes a tree, and deleting a missing tree is fine', async () => {
    await store.putBytes('bots/bot_4/a', Buffer.from('a'));
    await store.putBytes('bots/bot_4/b/c', Buffer.from('c'));
    await store.putBytes('bots/bot_40/keep', Buffer.from('k'));
    await store.deleteTree('bots/bot_4/');
    expect(await store.stat('bots/bot_4/a')).toBeNull();
    expect(await store.stat('bots/bot_4/b/c')).toBeNull();
    expect(await store.stat('bots/bot_40/keep')).toEqual({ sizeBytes: 1 });
    await store.deleteTree('bots/never');
  });

  it('lists the keys under a prefix, sorted, without puts in progress or neighbours sharing the name', async () => {
    await store.putBytes('bots/bot_5/parts/part-0002/seg-00000.ogg', Buffer.from('b'));
    await store.putBytes('bots/bot_5/parts/part-0001/seg-00001.ogg', Buffer.from('a1'));
    await store.putBytes('bots/bot_5/parts/part-0001/seg-00000.ogg', Buffer.from('a0'));
    await store.putBytes('bots/bot_50/parts/part-0001/seg-00000.ogg', Buffer.from('x'));
    await writeFile(path.join(dir, 'root', 'bots', 'bot_5', 'parts', 'part-0001', 'seg-00002.ogg.tmp-abc'), 'half');
    expect(await store.list('bots/bot_5/parts/')).toEqual([
      'bots/bot_5/parts/part-0001/seg-00000.ogg',
      'bots/bot_5/parts/part-0001/seg-00001.ogg',
      'bots/bot_5/parts/part-0002/seg-00000.ogg',
    ]);
    expect(await store.list('bots/bot_5/parts/part-0001/seg-00000.ogg')).toEqual([]); // an object is not a prefix
    expect(await store.list('bots/nobody')).toEqual([]);
    await expect(store.list('../x')).rejects.toThrow(/invalid storage key/);
  });

  it.each(['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a', 'a/.', 'a\\b', 'C:/x', 'a\0b'])('rejects key %j', async (key) => {
    expect(() => assertValidKey(key)).toThrow(/invalid storage key/);
    await expect(store.putBytes(key, Buffer.from('x'))).rejects.toThrow(/invalid storage key/);
    expect(() => store.read(key)).toThrow(/invalid storage key/);
    await expect(store.deleteTree(key || '/')).rejects.toThrow(/invalid storage key/);
  });

  it('rejects bad ranges', () => {
    expect(() => store.read('bots/bot_1/recording.ogg', { start: 5, end: 2 })).toThrow(RangeError);
    expect(() => store.read('bots/bot_1/recording.ogg', { start: -1, end: 2 })).toThrow(RangeError);
  });
});
