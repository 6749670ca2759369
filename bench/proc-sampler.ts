/**
 * Samples this process's descendants from /proc: CPU time (utime + stime) and memory
 * (RSS and PSS, summed per group), every `intervalMs`. Each descendant is put in a group by
 * `classify`, which sees its command name, its parent chain and whether its environment
 * names a PulseAudio sink (a bot's browser and media carry `PULSE_SINK`). CPU is
 * cumulative per group (a process that exits keeps its last reading), so the CPU between
 * two `mark`s counts processes that started or ended in between.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** CPU ticks so far. */
  ticks: number;
  rssKb: number;
  env: string;
}

export type Classify = (p: ProcInfo, ancestors: ProcInfo[]) => string | null;

const TICKS_PER_S = 100; // USER_HZ on Linux

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: split after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    const ppid = Number(f[1]);
    const ticks = Number(f[11]) + Number(f[12]);
    const rssKb = Number(f[21]) * 4;
    let env = '';
    try {
      env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      // a process that just exited
    }
    return { pid, ppid, comm, ticks, rssKb, env };
  } catch {
    return null;
  }
}

function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface GroupStats {
  cpuS: number;
  peakRssMb: number;
  peakPssMb: number;
  peakProcesses: number;
}

export class ProcSampler {
  #timer: NodeJS.Timeout | undefined;
  /** pid → [group, last ticks] */
  #seen = new Map<number, { group: string; ticks: number }>();
  #peak = new Map<string, { rssKb: number; pssKb: number; procs: number }>();
  #marks = new Map<string, Map<string, number>>();
  #totals = new Map<string, string[]>();

  constructor(
    private readonly classify: Classify,
    private readonly intervalMs = 500,
    private readonly root = process.pid,
  ) {}

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }

  /** Takes a reading now and stores the cumulative CPU per group under `name`. */
  mark(name: string): void {
    this.sample();
    this.#marks.set(name, this.cpuByGroup());
  }

  /** CPU-seconds per group between two marks. */
  cpuBetween(from: string, to: string): Map<string, number> {
    const a = this.#marks.get(from);
    const b = this.#marks.get(to);
    if (!a || !b) throw new Error(`unknown mark ${a ? to : from}`);
    const out = new Map<string, number>();
    for (const [g, v] of b) out.set(g, v - (a.get(g) ?? 0));
    return out;
  }

  peaks(): Map<string, { peakRssMb: number; peakPssMb: number; peakProcesses: number }> {
    const out = new Map<string, { peakRssMb: number; peakPssMb: number; peakProcesses: number }>();
    for (const [g, p] of this.#peak) out.set(g, { peakRssMb: p.rssKb / 1024, peakPssMb: p.pssKb / 1024, peakProcesses: p.procs });
    return out;
  }

  cpuByGroup(): Map<string, number> {
    const out = new Map<string, number>();
    for (const { group, ticks } of this.#seen.values()) out.set(group, (out.get(group) ?? 0) + ticks / TICKS_PER_S);
    return out;
  }

  sample(): void {
    const all = new Map<number, ProcInfo>();
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      const p = readProc(pid);
      if (p) all.set(pid, p);
    }
    const now = new Map<string, { rssKb: number; pssKb: number; procs: number }>();
    for (const p of all.values()) {
      const ancestors: ProcInfo[] = [];
      let cur = all.get(p.ppid);
      let descends = p.ppid === this.root;
      while (cur && !descends) {
        ancestors.unshift(cur);
        if (cur.ppid === this.root) descends = true;
        cur = all.get(cur.ppid);
      }
      if (!descends) continue;
      const group = this.classify(p, ancestors);
      if (!group) continue;
      this.#seen.set(p.pid, { group, ticks: p.ticks });
      const g = now.get(group) ?? { rssKb: 0, pssKb: 0, procs: 0 };
      g.rssKb += p.rssKb;
      g.pssKb += pssKb(p.pid);
      g.procs += 1;
      now.set(group, g);
    }
    for (const [group, g] of now) {
      const peak = this.#peak.get(group) ?? { rssKb: 0, pssKb: 0, procs: 0 };
      this.#peak.set(group, { rssKb: Math.max(peak.rssKb, g.rssKb), pssKb: Math.max(peak.pssKb, g.pssKb), procs: Math.max(peak.procs, g.procs) });
    }
    // The sum over a set of groups peaks together, not as the sum of the groups' peaks.
    for (const [name, members] of this.#totals) {
      let rss = 0;
      let pss = 0;
      let procs = 0;
      for (const m of members) {
        const g = now.get(m);
        if (g) {
          rss += g.rssKb;
          pss += g.pssKb;
          procs += g.procs;
        }
      }
      const peak = this.#peak.get(name) ?? { rssKb: 0, pssKb: 0, procs: 0 };
      this.#peak.set(name, { rssKb: Math.max(peak.rssKb, rss), pssKb: Math.max(peak.pssKb, pss), procs: Math.max(peak.procs, procs) });
    }
  }

  /** Tracks the simultaneous peak memory of several groups together under `name`. */
  total(name: string, groups: string[]): this {
    this.#totals.set(name, groups);
    return this;
  }
}

/** Groups for a process tree holding bots, test participants, Xvfb and Postgres. */
export const classifyBotProcesses: Classify = (p, ancestors) => {
  const top = ancestors[0] ?? p;
  if (top.comm === 'Xvfb') return 'xvfb';
  if (top.comm === 'postgres') return 'postgres';
  if (top.comm === 'ffmpeg') return 'bot ffmpeg';
  if (top.comm === 'sh' || top.comm === 'cat' || top.comm.startsWith('pocketsphinx')) return 'bot stt';
  if (top.comm === 'chromium' || top.comm.startsWith('chrom')) {
    return top.env.includes('PULSE_SINK=') ? 'bot chromium' : 'participants';
  }
  return 'other';
};

export const BOT_GROUPS = ['bot chromium', 'bot ffmpeg', 'bot stt'];
