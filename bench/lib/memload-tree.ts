/**
 * memload as a plain process tree on host A, as migrate's users are told to run one: the init of
 * its own PID namespace (`unshare --pid --fork setsid`), so CRIU can restore it under the same
 * PIDs on B. Its output goes to a file in a directory both lab hosts see (like shared storage):
 * the restored tree finds its open file on B and goes on writing after A's last line.
 */
import { readFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Transport } from '../../src/index.js';
import { out } from './commands.js';
import { fail } from './fail.js';
import { MEMLOAD, memloadArgs, parseTicks, type MemloadParams, type Tick } from './memload.js';

/** Where bench trees keep their output (both lab hosts see /var/tmp). */
export const SHARED_DIR = '/var/tmp/migrate-bench';

export interface StartedTree {
  /** memload's PID on A (the init of its PID namespace). */
  pid: number;
  /** Its whole command line: with a unique seed, how the bench finds its copies on either host. */
  argv: string[];
  dir: string;
  out: string;
}

/** Starts the tree and returns once memload printed its `start` line (its memory is filled). */
export async function startTree(a: Transport, p: MemloadParams, timeoutMs: number): Promise<StartedTree> {
  const dir = await out(a, ['sh', '-c', 'mkdir -p "$1" && chmod 0700 "$1" && mktemp -d "$1/run.XXXXXX"', 'mktemp', SHARED_DIR]);
  const outFile = `${dir}/out.log`;
  const argv = [MEMLOAD, ...memloadArgs(p)];
  // unshare --fork: its child is PID 1 of the new namespace; setsid makes it a session leader
  // without a terminal, so CRIU needs no --shell-job. The output file is opened inside, so
  // unshare itself (which complains when its child is dumped) does not write to it.
  const started = await a.exec(['sh', '-c',
    'unshare --pid --fork setsid sh -c \'exec "$@" > "$OUT" 2>&1\' workload "$@" > /dev/null 2>&1 < /dev/null & echo $!',
    'start', ...argv], { env: { OUT: outFile } });
  const unshare = started.stdout.trim();
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    const child = (await a.exec(['pgrep', '-P', unshare], { allowFailure: true })).stdout.trim();
    const text = await readFile(outFile, 'utf8').catch(() => '');
    if (child && /^start /m.test(text)) return { pid: Number(child), argv, dir, out: outFile };
  }
  await removeTree({ pid: 0, argv, dir, out: outFile }, a);
  return fail(`memload ${argv.slice(1).join(' ')} did not start within ${timeoutMs} ms (output: ${outFile})`);
}

/** Ticks in the output file, from byte `from` up to byte `to` (default: to its end). */
export async function treeTicks(file: string, from = 0, to?: number): Promise<Tick[]> {
  const text = (await readFile(file)).subarray(from, to).toString('utf8');
  return parseTicks(text);
}

/**
 * How far the output file reaches now. Synchronous on purpose: called from migrate's event
 * callback when the restore starts, a moment at which A's copy is frozen and B's does not run
 * yet, so the bytes so far are exactly A's output (a local stat: well under a millisecond).
 */
export const outputLength = (file: string): number => statSync(file).size;

/** PIDs of processes on a host whose command line is exactly argv (the seed makes it this run's). */
export async function copiesOf(t: Transport, argv: string[]): Promise<number[]> {
  const r = await t.exec(['sh', '-c', 'want=$1; for p in $(pgrep -x memload); do [ "$(tr "\\0" " " < /proc/$p/cmdline 2>/dev/null)" = "$want " ] && echo $p; done; true',
    'copies', argv.join(' ')], { allowFailure: true });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/** Ends every copy of this tree on the hosts (by PID), and removes its output directory. */
export async function removeTree(tree: StartedTree, a: Transport, ...others: Transport[]): Promise<void> {
  for (const t of [a, ...others]) {
    const pids = await copiesOf(t, tree.argv);
    if (pids.length) await t.exec(['kill', '-KILL', ...pids.map(String)], { allowFailure: true });
  }
  await a.exec(['rm', '-rf', tree.dir], { allowFailure: true });
}
