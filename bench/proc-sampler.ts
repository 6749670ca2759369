/**
 * Samples this process's descendants from /proc: CPU time (utime + stime) and memory
 * (RSS and PSS, summed per group), every `intervalMs`; PSS only on every `pssEvery`th
 * reading and each environment once per process (reading both for every browser process
 * twice a second cost 17 CPU-s/min at 3 bots). Each descendant is put in a group by
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

/** One process's stat line; its environment is read once per process (`known`, keyed by pid and start time). */
function readProc(pid: number, known: Map<number, { start: string; env: string }>): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: split after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    const ppid = Number(f[1]);
    const ticks = Number(f[11]) + Number(f[12]);
    const start = f[19]!;
    const rssKb = Number(f[21]) * 4;
    let env = known.get(pid)?.start === start ? known.get(pid)!.env : undefined;
    if (env === undefined) {
      try {
        env = readFileSync(`/proc/${pid}/environ`, 'latin1');
      } catch {
        env = ''; // a process that just exited
      }
      known.set(pid, { start, env });
    }
    return { pid, ppid, comm, ticks, rssKb, env };
  } catch {
    known.delete(pid);
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

interface Sample {
  at: number;
  byGroup: Map<string, { rssKb: number; pssKb: number; procs: number }>;
}

export class ProcSampler {
  #timer: NodeJS.Timeout | undefined;
  /** pid → its group and last CPU reading */
  #seen = new Map<number, { group: string; ticks: number }>();
  #samples: Sample[] = [];
  #marks = new Map<string, { at: number; cpu: Map<string, number> }>();
  #selfCpuUs = 0;
  #known = new Map<number, { start: string; env: string }>();
  #readings = 0;

  constructor(
    private readonly classify: Classify,
    private readonly intervalMs = 500,
    private readonly root = process.pid,
    /** PSS (smaps_rollup walks every mapping: costly for browsers) is read on every Nth reading; RSS on each. */
    private readonly pssEvery = 4,
  ) {}

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
  }

  /** Takes a reading now and stores the cumulative CPU per group under `name`. */
  mark(name: string): void {
    this.sample();
    this.#marks.set(name, { at: Date.now(), cpu: this.cpuByGroup() });
  }

  #mark(name: string) {
    const m = this.#marks.get(name);
    if (!m) throw new Error(`unknown mark ${name}`);
    return m;
  }

  /** Wall-clock ms between two marks. */
  elapsed(from: string, to: string): number {
    return this.#mark(to).at - this.#mark(from).at;
  }

  /** CPU-seconds per group between two marks. */
  cpuBetween(from: string, to: string): Map<string, number> {
    const a = this.#mark(from).cpu;
    const out = new Map<string, number>();
    for (const [g, v] of this.#mark(to).cpu) out.set(g, v - (a.get(g) ?? 0));
    return out;
  }

  /** Cumulative CPU-seconds per group so far (a process that exited keeps its last reading). */
  cpuByGroup(): Map<string, number> {
    const out = new Map<string, number>();
    for (const { group, ticks } of this.#seen.values()) out.set(group, (out.get(group) ?? 0) + ticks / TICKS_PER_S);
    return out;
  }

  /** Peak memory of each group on its own. */
  peaks(): Map<string, { peakRssMb: number; peakPssMb: number; peakProcesses: number }> {
    const out = new Map<string, { peakRssMb: number; peakPssMb: number; peakProcesses: number }>();
    for (const { byGroup } of this.#samples) {
      for (const [g, v] of byGroup) {
        const p = out.get(g) ?? { peakRssMb: 0, peakPssMb: 0, peakProcesses: 0 };
        out.set(g, { peakRssMb: Math.max(p.peakRssMb, v.rssKb / 1024), peakPssMb: Math.max(p.peakPssMb, v.pssKb / 1024), peakProcesses: Math.max(p.peakProcesses, v.procs) });
      }
    }
    return out;
  }

  /** Peak of the sum of several groups at the same reading (not the sum of their peaks). */
  peakOf(groups: readonly string[]): { rssMb: number; pssMb: number } {
    let rss = 0;
    let pss = 0;
    for (const { byGroup } of this.#samples) {
      let r = 0;
      let q = 0;
      for (const g of groups) {
        r += byGroup.get(g)?.rssKb ?? 0;
        q += byGroup.get(g)?.pssKb ?? 0;
      }
      rss = Math.max(rss, r);
      pss = Math.max(pss, q);
    }
    return { rssMb: rss / 1024, pssMb: pss / 1024 };
  }

  /** CPU-seconds this sampler spent reading /proc (it runs in the bench's own process, which it reports too). */
  get selfCpuS(): number {
    return this.#selfCpuUs / 1e6;
  }

  sample(): void {
    const before = process.cpuUsage();
    this.#sample();
    const used = process.cpuUsage(before);
    this.#selfCpuUs += used.user + used.system;
  }

  #sample(): void {
    const all = new Map<number, ProcInfo>();
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      const p = readProc(pid, this.#known);
      if (p) all.set(pid, p);
    }
    const byGroup: Sample['byGroup'] = new Map();
    const withPss = this.#readings++ % this.pssEvery === 0;
    for (const pid of this.#known.keys()) if (!all.has(pid)) this.#known.delete(pid);
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
      const g = byGroup.get(group) ?? { rssKb: 0, pssKb: 0, procs: 0 };
      g.rssKb += p.rssKb;
      if (withPss) g.pssKb += pssKb(p.pid);
      g.procs += 1;
      byGroup.set(group, g);
    }
    this.#samples.push({ at: Date.now(), byGroup });
  }
}

const BOT_ID = /(?:^|\0)NOTULA_BOT_ID=([^\0]+)/;

/**
 * Groups for a process tree holding bots, test participants, Xvfb and Postgres. A bot's
 * processes carry NOTULA_BOT_ID in their environment (bot/run-bot.ts): its browser tree,
 * ffmpeg and the STT engine become `bot <id> chromium|ffmpeg|stt`.
 */
export const classifyBotProcesses: Classify = (p, ancestors) => {
  const top = ancestors[0] ?? p;
  const bot = BOT_ID.exec(p.env)?.[1] ?? BOT_ID.exec(top.env)?.[1];
  if (bot) {
    const kind = top.comm === 'ffmpeg' ? 'ffmpeg' : top.comm.startsWith('chrom') ? 'chromium' : 'stt';
    return `bot ${bot} ${kind}`;
  }
  if (top.comm === 'Xvfb') return 'xvfb';
  if (top.comm === 'postgres') return 'postgres';
  if (top.comm.startsWith('chrom')) return 'participants';
  return 'other';
};

export const BOT_KINDS = ['chromium', 'ffmpeg', 'stt'] as const;

/** The groups of one bot. */
export const botGroups = (botId: string) => BOT_KINDS.map((k) => `bot ${botId} ${k}`);
