/** Starts and reads the memload workload on a host, as a process tree in its own PID namespace. */
import type { ExecutionContext } from 'ava';
import type { Transport } from '../../transports/transport.js';
import type { MigrationReport } from '../../src/migration/report.js';
import { readFileVia } from '../../transports/files.js';

export interface Workload {
  /** PID of memload in the host's PID namespace (the init of its own namespace). */
  pid: number;
  out: string;
  dir: string;
}

export async function tempDir(t: Transport, base = '/var/lib/migrate'): Promise<string> {
  return (await t.exec(['sh', '-c', 'mkdir -p "$1" && chmod 0700 "$1" && mktemp -d "$1/test.XXXXXX"', 'mktemp', base])).stdout.trim();
}

export async function startTree(t: Transport, memload: string, args: string[], dir: string): Promise<Workload> {
  const out = `${dir}/out.log`;
  // unshare --fork: its child is PID 1 of the new namespace; setsid makes it a session leader
  // without a terminal, so CRIU needs no --shell-job. The output file is opened inside, so
  // unshare itself (which complains on stderr when its child is dumped) does not share it.
  const r = await t.exec(['sh', '-c',
    'unshare --pid --fork setsid sh -c \'exec "$@" > "$OUT" 2>&1\' workload "$@" > /dev/null 2>&1 < /dev/null & u=$!; ' +
    'for i in $(seq 100); do c=$(pgrep -P $u) && [ -n "$c" ] && grep -q "^start" "$OUT" 2>/dev/null && { echo $c; exit 0; }; sleep 0.05; done; exit 1',
    'start', memload, ...args], { env: { OUT: out } });
  return { pid: Number(r.stdout.trim()), out, dir };
}

export async function ticks(t: Transport, out: string): Promise<number[]> {
  const text = (await readFileVia(t, out)).toString('utf8');
  return [...text.matchAll(/^tick (\d+) /gm)].map((m) => Number(m[1]));
}

/** True when the numbers go up by exactly one each step. */
export function continuous(nums: number[]): boolean {
  return nums.every((n, i) => i === 0 || n === nums[i - 1]! + 1);
}

/** Where tree tests keep their output: a directory both lab hosts see (like shared storage). */
export const SHARED_DIR = '/var/tmp/migrate-tree-tests';

/** PIDs of memload processes started with `--mib N` on the controller's machine (the lab's hosts share one PID space). */
export async function memloadCopies(t: Transport, mib: number): Promise<string[]> {
  const r = await t.exec(['sh', '-c', 'for p in $(pgrep -x memload); do tr "\\0" " " < /proc/$p/cmdline | grep -q -- "--mib $1 " && echo $p; done; true', 'copies', String(mib)]);
  return r.stdout.trim().split('\n').filter(Boolean);
}

export interface TickTime { n: number; us: number }

/** memload's `tick N MICROSECONDS` lines: each tick's number and when it was printed (CLOCK_REALTIME µs). */
export const tickTimes = (text: string): TickTime[] => [...text.matchAll(/^tick (\d+) (\d+)$/gm)].map((m) => ({ n: Number(m[1]), us: Number(m[2]) }));

/** The longest stop between consecutive ticks, in ms: across a migration, the workload's own view of its freeze. */
export const longestGapMs = (ticks: TickTime[]): number => Math.max(...ticks.slice(1).map((x, i) => (x.us - ticks[i]!.us) / 1e3));

/** How far the report's freeze may be off the workload's own view: the kernel's coarse file times, the guard's answer, scheduling. */
const AGREE_MS = 30;
/** Docker's freeze counts from `docker checkpoint create`'s issue: what Docker does before containerd pauses the container is in it too. */
const DOCKER_BEFORE_PAUSE_MS = 400;

/**
 * The report's freeze against the workload's longest stop between ticks `tickMs` apart (the
 * lab's hosts share one clock). From CRIU's freeze (`criu`), the two agree; from the checkpoint
 * command (`command`: Docker), the report may be longer, never shorter.
 */
export function assertFreezeAsWorkloadSaw(t: ExecutionContext, report: MigrationReport, ticks: TickTime[], tickMs: number, from: 'criu' | 'command' = 'criu'): void {
  const gap = longestGapMs(ticks);
  t.is(report.freeze_start.from, from, `the freeze counts from ${from === 'criu' ? 'CRIU\'s freeze' : 'the checkpoint command'}`);
  const diff = report.freeze_ms! - gap;
  t.log(`freeze ${report.freeze_ms} ms, the workload's longest stop ${gap.toFixed(1)} ms (${JSON.stringify(report.freeze_start)})`);
  // The report takes the earliest start the source's clock offset allows: up to twice its uncertainty early.
  const most = (from === 'criu' ? AGREE_MS : DOCKER_BEFORE_PAUSE_MS) + 2 * (report.freeze_start.uncertainty_ms ?? 0);
  t.true(diff >= -(tickMs + AGREE_MS) && diff <= most, `freeze ${report.freeze_ms} ms, the workload's longest stop ${gap.toFixed(1)} ms (${JSON.stringify(report.freeze_start)})`);
}
