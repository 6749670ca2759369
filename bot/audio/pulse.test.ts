import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { allocateAudioSink, ensurePulseAudio, sinkNameFor } from './pulse.js';

const execFileP = promisify(execFile);
/** The PulseAudio server all media tests share (left running; ensurePulseAudio reuses it). */
const SHARED_RUNTIME = path.join(tmpdir(), `notula-test-pulse-${process.getuid?.() ?? 0}`);

const pactl = async (env: Record<string, string>, ...args: string[]) =>
  (await execFileP('pactl', args, { env: { ...process.env, ...env } })).stdout;

/** Pids of pulseaudio daemons whose XDG_RUNTIME_DIR is `dir`. */
async function daemonsOn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.startsWith('pulseaudio')) continue;
      const env = (await readFile(`/proc/${p}/environ`, 'utf8')).split('\0');
      const stat = await readFile(`/proc/${p}/stat`, 'utf8');
      if (env.includes(`XDG_RUNTIME_DIR=${dir}`) && !/\) Z /.test(stat)) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('ensurePulseAudio', () => {
  const fresh: string[] = [];
  afterAll(async () => {
    for (const dir of fresh) {
      for (const pid of await daemonsOn(dir)) process.kill(pid, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts a server once and returns its env; concurrent calls share it', async () => {
    const [a, b] = await Promise.all([
      ensurePulseAudio({ runtimeDir: SHARED_RUNTIME, log: silentLogger }),
      ensurePulseAudio({ runtimeDir: SHARED_RUNTIME, log: silentLogger }),
    ]);
    expect(a.env).toEqual({ XDG_RUNTIME_DIR: SHARED_RUNTIME, PULSE_SERVER: `unix:${SHARED_RUNTIME}/pulse/native` });
    expect(b.env).toEqual(a.env);
    expect(await pactl(a.env, 'info')).toMatch(/Server Name: pulseaudio/);
    // Idempotent: a later call finds the running server.
    const again = await ensurePulseAudio({ runtimeDir: SHARED_RUNTIME, log: silentLogger });
    expect(again.env).toEqual(a.env);
    expect(await daemonsOn(SHARED_RUNTIME)).toHaveLength(1);
  });

  it('is safe when several processes race to start it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'notula-pulse-race-'));
    fresh.push(dir);
    const script = path.join(dir, 'race.mts');
    const here = path.dirname(fileURLToPath(import.meta.url));
    const modulePath = path.join(here, 'pulse.ts');
    const logPath = path.join(here, '..', '..', 'lib', 'log.ts');
    await writeFile(
      script,
      `import { ensurePulseAudio } from ${JSON.stringify(modulePath)};
       import { silentLogger } from ${JSON.stringify(logPath)};
       const s = await ensurePulseAudio({ runtimeDir: ${JSON.stringify(dir)}, log: silentLogger });
       console.log(JSON.stringify(s.env));`,
    );
    const tsx = path.resolve('node_modules/.bin/tsx');
    const runs = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<{ code: number | null; out: string }>((resolve) => {
            const c = spawn(tsx, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            c.stdout.on('data', (d: Buffer) => (out += d));
            c.on('close', (code) => resolve({ code, out }));
          }),
      ),
    );
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual({ XDG_RUNTIME_DIR: dir, PULSE_SERVER: `unix:${dir}/pulse/native` });
    }
    expect(await daemonsOn(dir)).toHaveLength(1);
  }, 60_000);
});

describe('allocateAudioSink', () => {
  it('sanitises the bot id into the sink name', () => {
    expect(sinkNameFor('bot_01JABC')).toBe('notula_bot_01JABC');
    expect(sinkNameFor('a b/c.d-é')).toBe('notula_a_b_c_d__');
    expect(() => sinkNameFor('')).toThrow();
  });

  it('loads a null sink that can be played into, and unloads it on release (idempotent)', async () => {
    const server = await ensurePulseAudio({ runtimeDir: SHARED_RUNTIME, log: silentLogger });
    const sink = await allocateAudioSink(server, 'bot_test-alloc');
    expect(sink.name).toBe('notula_bot_test_alloc');
    expect(sink.monitor).toBe('notula_bot_test_alloc.monitor');
    expect(sink.env).toEqual({ ...server.env, PULSE_SINK: 'notula_bot_test_alloc' });
    expect(await pactl(server.env, 'list', 'short', 'sinks')).toContain('notula_bot_test_alloc\t');
    expect(await pactl(server.env, 'list', 'short', 'sources')).toContain('notula_bot_test_alloc.monitor\t');
    // A client with only the sink env plays into it (PULSE_SINK picks the device).
    const { stderr } = await execFileP('pacat', ['--playback', '--raw', '--format=s16le', '--rate=48000', '--channels=1', '/dev/null'], {
      env: { ...process.env, ...sink.env },
    });
    expect(stderr).toBe('');
    await sink.release();
    await sink.release();
    expect(await pactl(server.env, 'list', 'short', 'sinks')).not.toContain('notula_bot_test_alloc');
  });

  it('replaces a sink left behind by a crashed process', async () => {
    const server = await ensurePulseAudio({ runtimeDir: SHARED_RUNTIME, log: silentLogger });
    const stale = await allocateAudioSink(server, 'bot_test-stale'); // never released: "crash"
    void stale;
    const sink = await allocateAudioSink(server, 'bot_test-stale');
    const sinks = (await pactl(server.env, 'list', 'short', 'sinks')).split('\n').filter((l) => l.includes('notula_bot_test_stale'));
    expect(sinks).toHaveLength(1);
    expect(sinks[0]!.split('\t')[1]).toBe('notula_bot_test_stale');
    // Releasing the stale handle must not unload the new sink.
    await stale.release();
    expect(await pactl(server.env, 'list', 'short', 'sinks')).toContain('notula_bot_test_stale\t');
    await sink.release();
    expect(await pactl(server.env, 'list', 'short', 'sinks')).not.toContain('notula_bot_test_stale');
  });
});
