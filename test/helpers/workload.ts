/** Starts and reads the memload workload on a host, as a process tree in its own PID namespace. */
import type { Transport } from '../../transports/transport.js';
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
