/**
 * A private PulseAudio server for the bots of this machine, and one null sink per bot.
 *
 * The bot's Chromium plays into its own null sink (`PULSE_SINK=<sink>`), ffmpeg records
 * `<sink>.monitor`. The server is started with `-n` (no default.pa): only the native protocol
 * (anonymous auth; the socket lives in a 0700 runtime directory) and one idle default null
 * sink are loaded, so nothing probes hardware, D-Bus or X11 and no state is restored from
 * `~/.config/pulse`. Measured on a 2-core VM: `pulseaudio --daemonize` returns after ~15 ms
 * with the server answering; a null sink loads in ~5 ms.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Logger } from '../../lib/log.js';

const execFileP = promisify(execFile);

export interface PulseServer {
  /** XDG_RUNTIME_DIR and PULSE_SERVER: hand these to every child that talks to the server. */
  readonly env: Record<string, string>;
}

export interface AudioSink {
  /** Sink name (`notula_<sanitised bot id>`). */
  readonly name: string;
  /** Its monitor source, what ffmpeg records. */
  readonly monitor: string;
  /** Server env plus `PULSE_SINK=name`: the environment for the bot's browser. */
  readonly env: Record<string, string>;
  /** Unloads the sink (idempotent; a sink already gone is fine). */
  release(): Promise<void>;
}

export interface EnsurePulseAudioOptions {
  /** Private XDG_RUNTIME_DIR; the socket is `<runtimeDir>/pulse/native`. Created (0700) if missing. */
  runtimeDir: string;
  log: Logger;
  /** How long to wait for the server to answer after starting it (default 10 s). */
  timeoutMs?: number;
  pulseaudioBin?: string;
}

const DEFAULT_SINK = 'notula_default';
const starting = new Map<string, Promise<PulseServer>>();

/**
 * Returns a running PulseAudio server on `runtimeDir`, starting one if nothing answers there.
 * Idempotent, and safe when several processes race: PulseAudio's own pid-file lock lets
 * exactly one daemon start, the others' `pulseaudio` exits with an error we ignore before
 * polling `pactl info` until the winner answers.
 */
export function ensurePulseAudio(opts: EnsurePulseAudioOptions): Promise<PulseServer> {
  const runtimeDir = path.resolve(opts.runtimeDir);
  const pending = starting.get(runtimeDir);
  if (pending) return pending;
  const p = start({ ...opts, runtimeDir }).finally(() => starting.delete(runtimeDir));
  starting.set(runtimeDir, p);
  return p;
}

async function start(opts: EnsurePulseAudioOptions): Promise<PulseServer> {
  const { runtimeDir, log } = opts;
  const env = { XDG_RUNTIME_DIR: runtimeDir, PULSE_SERVER: `unix:${path.join(runtimeDir, 'pulse', 'native')}` };
  const server: PulseServer = { env };
  if (await answers(env)) return server;

  await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
  const t0 = Date.now();
  const args = [
    '-n', // no default.pa: load exactly what we need
    '--daemonize=yes',
    '--exit-idle-time=-1', // never exit when no client is connected
    '--disallow-exit', // clients (`pactl exit`) cannot stop it
    '--use-pid-file=yes', // the lock that makes concurrent starts safe
    // Its IO threads must keep real time when the bots' decoders load the machine: ask for
    // realtime scheduling and nice -11, as desktop PulseAudio does. Without the privilege
    // (CAP_SYS_NICE, rtkit) it says so in its log and runs as before.
    '--realtime=yes',
    '--high-priority=yes',
    `--log-target=file:${path.join(runtimeDir, 'pulseaudio.log')}`,
    '--load=module-native-protocol-unix auth-anonymous=1',
    // An idle default sink/source, so clients without PULSE_SINK (or asking for a mic) find one.
    `--load=module-null-sink sink_name=${DEFAULT_SINK} format=s16le rate=48000 channels=2 sink_properties=device.description=${DEFAULT_SINK}`,
  ];
  log.info({ runtimeDir }, 'starting PulseAudio');
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(opts.pulseaudioBin ?? 'pulseaudio', args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  if (result.code !== 0) {
    // Usually another process won the race ("Daemon already running"); we find out below.
    log.debug({ code: result.code, stderr: result.stderr.trim() }, 'pulseaudio --daemonize exited non-zero');
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (await answers(env)) {
      log.info({ runtimeDir, ms: Date.now() - t0 }, 'PulseAudio ready');
      return server;
    }
    await sleep(50);
  }
  throw new Error(`PulseAudio did not start on ${runtimeDir}: ${result.stderr.trim() || `exit ${result.code}`}`);
}

async function answers(env: Record<string, string>): Promise<boolean> {
  try {
    await execFileP('pactl', ['info'], { env: { ...process.env, ...env }, timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** `bot_01J…` → `notula_bot_01J…`: only [A-Za-z0-9_], at most 64 characters of the id. */
export function sinkNameFor(botId: string): string {
  const clean = botId.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 64);
  if (!clean) throw new Error('empty bot id');
  return `notula_${clean}`;
}

interface ModuleRow {
  index: string;
  name: string;
  args: string;
}

async function listModules(env: Record<string, string>): Promise<ModuleRow[]> {
  const { stdout } = await pactlRun(env, ['list', 'short', 'modules']);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [index = '', name = '', args = ''] = line.split('\t');
      return { index, name, args };
    });
}

async function listSinks(env: Record<string, string>): Promise<string[]> {
  const { stdout } = await pactlRun(env, ['list', 'short', 'sinks']);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t')[1] ?? '');
}

function pactlRun(env: Record<string, string>, args: string[]) {
  return execFileP('pactl', args, { env: { ...process.env, ...env }, timeout: 10_000 });
}

function modulesOfSink(modules: ModuleRow[], sink: string): ModuleRow[] {
  return modules.filter(
    (m) => m.name === 'module-null-sink' && m.args.split(/\s+/).includes(`sink_name=${sink}`),
  );
}

/**
 * Loads a null sink `notula_<id>` (s16le, 48 kHz, stereo) for one bot. A sink of the same
 * name left behind by a crashed process is unloaded first (PulseAudio would otherwise
 * register ours as `<name>.2`), so the bot always starts from a fresh sink.
 */
export async function allocateAudioSink(server: PulseServer, botId: string): Promise<AudioSink> {
  const name = sinkNameFor(botId);
  const env = server.env;
  for (const stale of modulesOfSink(await listModules(env), name)) {
    await pactlRun(env, ['unload-module', stale.index]).catch(() => undefined);
  }
  const { stdout } = await pactlRun(env, [
    'load-module',
    'module-null-sink',
    `sink_name=${name}`,
    'format=s16le',
    'rate=48000',
    'channels=2',
    `sink_properties=device.description=${name}`,
  ]);
  const moduleIndex = stdout.trim();
  if (!/^\d+$/.test(moduleIndex)) throw new Error(`unexpected load-module output: ${stdout}`);
  if (!(await listSinks(env)).includes(name)) {
    // Someone registered the name between our unload and load; ours got a suffixed name.
    await pactlRun(env, ['unload-module', moduleIndex]).catch(() => undefined);
    throw new Error(`sink ${name} is taken by another module`);
  }
  let released: Promise<void> | undefined;
  return {
    name,
    monitor: `${name}.monitor`,
    env: { ...env, PULSE_SINK: name },
    release() {
      released ??= (async () => {
        // Unload only our module instance: the index may have been reused if the server restarted.
        const mods = await listModules(env).catch(() => []);
        if (mods.some((m) => m.index === moduleIndex && modulesOfSink([m], name).length)) {
          await pactlRun(env, ['unload-module', moduleIndex]).catch(() => undefined);
        }
      })();
      return released;
    },
  };
}
