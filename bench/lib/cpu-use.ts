/**
 * Where the CPU went during a stretch of a benchmark (a post-copy window): the machine's busy
 * share from /proc/stat, and CPU seconds per role (the controller, CRIU, sshd, migrate's Node
 * helpers on the hosts, the workload, Docker's daemons) from every process's /proc/PID/stat.
 *
 * Only meaningful in the lab, where both hosts are this machine (host B is a network and mount
 * namespace, not a PID namespace): every process of the move is visible here. Processes are
 * sampled every `intervalMs`; one that started and ended between two samples is missed, and a
 * process that ended is counted up to its last sample.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const ROLES = ['controller', 'criu', 'sshd', 'node', 'workload', 'docker', 'other'] as const;
export type Role = typeof ROLES[number];

export interface CpuUse {
  wallMs: number;
  /** The machine's CPUs busy on average over the stretch (0..cpus), from /proc/stat. */
  busyCpus: number;
  cpus: number;
  /** CPU seconds per role over the stretch. `controller` leaves out the sampler's own reads. */
  seconds: Record<Role, number>;
  /** The sampler's own reads of /proc, wall time (it runs in the controller's process). */
  samplerMs: number;
  /** The busiest commands (comm; this process as `controller`, with the sampler's reads), CPU seconds, most first (up to 8). */
  top: Array<[string, number]>;
}

/** The totals of /proc/stat's first line: all jiffies and the idle ones (idle + iowait). */
export function parseProcStat(text: string): { total: number; idle: number } {
  const first = text.split('\n', 1)[0]!;
  const f = first.trim().split(/\s+/);
  if (f[0] !== 'cpu') throw new Error(`/proc/stat: unexpected first line ${JSON.stringify(first)}`);
  const v = f.slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user and nice).
  const total = v.slice(0, 8).reduce((x, y) => x + y, 0);
  return { total, idle: (v[3] ?? 0) + (v[4] ?? 0) };
}

/**
 * comm, own utime + stime (in ticks) and start time (ticks since boot: with the PID, who it is) of
 * a /proc/PID/stat line; comm may hold spaces and parentheses, and a kernel worker's changes.
 */
export function parsePidStat(text: string): ProcEntry {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`/proc/PID/stat: unexpected ${JSON.stringify(text.slice(0, 80))}`);
  // After ") ": state(3) ppid(4) ... utime(14) stime(15): indexes 11 and 12 from field 3.
  const f = text.slice(close + 2).split(' ');
  return { comm: text.slice(open + 1, close), ticks: Number(f[11]) + Number(f[12]), start: Number(f[19]) };
}

export interface ProcEntry { comm: string; ticks: number; start: number }

const DOCKER = /^(dockerd|containerd|containerd-shim.*|runc|docker-proxy|docker)$/;

export function roleOf(comm: string, isSelf: boolean): Role {
  if (isSelf) return 'controller';
  if (comm === 'criu') return 'criu';
  if (comm === 'sshd') return 'sshd';
  if (comm === 'node') return 'node';
  if (comm === 'memload' || comm === 'redis-server') return 'workload';
  if (DOCKER.test(comm)) return 'docker';
  return 'other';
}

/** What the sampler reads; replaced in unit tests. */
export interface ProcSource {
  stat(): string;
  pids(): string[];
  pidStat(pid: string): string | undefined;
  selfPid: string;
  ticksPerSecond: number;
  cpus: number;
}

let clockTicks: number | undefined;

export const procSource = (): ProcSource => ({
  stat: () => readFileSync('/proc/stat', 'utf8'),
  pids: () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)),
  pidStat: (pid) => { try { return readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; } },
  selfPid: String(process.pid),
  ticksPerSecond: (clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100),
  cpus: parseProcStatCpus(readFileSync('/proc/stat', 'utf8')),
});

/** How many CPUs /proc/stat lists (its cpuN lines). */
export function parseProcStatCpus(text: string): number {
  return text.split('\n').filter((l) => /^cpu\d+\s/.test(l)).length;
}

export interface CpuSampler {
  /** Ends the stretch: one last sample, and the totals. Later calls return the same. */
  stop(): CpuUse;
}

/**
 * Starts sampling now: every `intervalMs` (100), or, with `timer: false`, only when `tick()` is
 * called (unit tests).
 */
export function startCpuSampler(src: ProcSource = procSource(), o: { intervalMs?: number; timer?: boolean } = {}): CpuSampler & { tick(): void } {
  let samplerMs = 0;
  const read = (): Map<string, ProcEntry> => {
    const t0 = performance.now();
    const m = new Map<string, ProcEntry>();
    for (const pid of src.pids()) {
      const text = src.pidStat(pid);
      if (text === undefined) continue;
      try { m.set(pid, parsePidStat(text)); } catch { /* a process gone mid-read */ }
    }
    samplerMs += performance.now() - t0;
    return m;
  };
  const start = Date.now();
  const stat0 = parseProcStat(src.stat());
  const base = read();
  const last = new Map<string, ProcEntry>();
  const tick = () => { for (const [pid, v] of read()) last.set(pid, v); };
  const timer = o.timer === false ? undefined : setInterval(tick, o.intervalMs ?? 100);
  let result: CpuUse | undefined;
  return {
    tick,
    stop() {
      if (result) return result;
      if (timer) clearInterval(timer);
      tick();
      const stat1 = parseProcStat(src.stat());
      const seconds = Object.fromEntries(ROLES.map((r) => [r, 0])) as Record<Role, number>;
      const byComm = new Map<string, number>();
      for (const [pid, v] of last) {
        const b = base.get(pid);
        // A PID reused by another process since the start counts from zero.
        const from = b && b.start === v.start ? b.ticks : 0;
        const used = (v.ticks - from) / src.ticksPerSecond;
        seconds[roleOf(v.comm, pid === src.selfPid)] += used;
        const name = pid === src.selfPid ? 'controller' : v.comm;
        if (used > 0) byComm.set(name, (byComm.get(name) ?? 0) + used);
      }
      seconds.controller = Math.max(0, seconds.controller - samplerMs / 1000);
      const total = stat1.total - stat0.total;
      const busy = total > 0 ? 1 - (stat1.idle - stat0.idle) / total : 0;
      const top = [...byComm].sort((x, y) => y[1] - x[1]).slice(0, 8);
      result = { wallMs: Date.now() - start, busyCpus: busy * src.cpus, cpus: src.cpus, seconds, samplerMs, top };
      return result;
    },
  };
}
