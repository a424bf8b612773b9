/**
 * Signals to `migrate` itself, through the real binary against the lab, as maintenance scripts
 * send them (`timeout`, a service manager, a closed terminal, `kill -9`), in every phase of a run
 * and for both kinds of workload. Whatever the moment, afterwards — within a bounded wait, with
 * no manual step — the workload runs exactly once (on the source, or on the target when the
 * restore had already begun), its counter continuous and its memory intact; runc.conf is as it
 * was on both hosts; no image directory and no twin that does not run is left; and the next
 * migrate succeeds (finishing, where needed, what the dead run left: recover.ts).
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LocalTransport } from '../../transports/local.js';
import { SshTransport } from '../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../transports/transport.js';
import { ensureLab, sshOpts } from '../helpers/lab.js';
import { CLI, runSignalled, type SignalledRun } from '../helpers/cli.js';
import { procStat } from '../../src/process/tree.js';
import { continuous, memloadCopies, startTree, tempDir, ticks, SHARED_DIR } from '../helpers/workload.js';
import { checksum, containerId, imageDirsOf, logs, removeEverywhere, running, startContainer, tickNums, treeChecksum } from '../helpers/containers.js';

const run = promisify(execFile);
const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

const SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGKILL'] as const;
type Signal = (typeof SIGNALS)[number];

/** When, in a run, the signal arrives: after which progress line, how much later, in which strategy. */
const PHASES = [
  { phase: 'preflight', when: /migrate: preflight \(local\)/, delayMs: 0, args: ['--strategy', 'cold'], mib: 16 },
  { phase: 'the dump', when: /migrate: checkpoint \(/, delayMs: 150, args: ['--strategy', 'cold'], mib: 192 },
  { phase: 'the transfer', when: /migrate: transfer \(/, delayMs: 150, args: ['--strategy', 'cold', '--pages', 'stream'], mib: 192 },
  // Post-copy between its lazy dump and the restore: the dump's page server listens, waiting for the target.
  { phase: 'the post-copy transfer', when: /migrate: transfer \(/, delayMs: 0, args: ['--strategy', 'postcopy'], mib: 64 },
  { phase: 'the restore', when: /migrate: restore \(/, delayMs: 0, args: ['--strategy', 'cold'], mib: 64 },
  { phase: 'the post-copy window', when: /migrate: postcopy \(/, delayMs: 100, args: ['--strategy', 'postcopy'], mib: 384 },
] as const;
/** Before the restore began, the source copy is the one: it must be back there. */
const beforeRestore = (p: Phase) => ['preflight', 'the dump', 'the transfer', 'the post-copy transfer'].includes(p.phase);
type Phase = (typeof PHASES)[number];

/** runc.conf on a host: its text, or null when there is none. */
const runcConf = async (t: Transport) => {
  const r = await t.exec(['cat', '/etc/criu/runc.conf'], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : null;
};

async function until(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) if (await cond()) return true;
  return cond();
}

/** SIGKILL goes to the CLI's whole process group (as `kill -9 -PGID`); the others to the CLI alone (as `timeout` sends them). */
const signalled = (args: string[], p: Phase, signal: Signal) =>
  runSignalled([...args, ...p.args, '--json'], p.when, p.delayMs, signal, signal === 'SIGKILL' ? 'group' : 'process');

/** What a signal that was handled must have produced: exit 1 with the report of a rollback, or (too late to stop) 0 and migrated. */
function checkHandled(t: ExecutionContext, r: SignalledRun, p: Phase, signal: Signal): 'source' | 'target' {
  t.true(r.sent, 'the signal was sent');
  const report = JSON.parse(r.stdout);
  if (r.code === 0) {
    t.false(beforeRestore(p), `migrated despite ${signal} during ${p.phase}: ${r.stderr}`);
    t.is(report.outcome, 'migrated');
    return 'target';
  }
  t.is(r.code, 1, r.stderr);
  t.is(report.error.code, 'INTERRUPTED', r.stderr);
  t.regex(r.stderr, new RegExp(`interrupted \\(${signal}\\)`));
  if (p.phase !== 'preflight') t.is(report.outcome, 'rolled-back');
  t.is(report.runs_on, 'source');
  return 'source';
}

interface Copies { runningOnA: number; stoppedOnA: number; runningOnB: number }

/** A container: its copies on each host, running or stopped (processes in T). */
async function containerCopies(name: string): Promise<Copies> {
  const stopped = async (t: Transport) => (await t.exec(['docker', 'top', name, '-o', 'pid,stat'], { allowFailure: true })).stdout.split('\n').slice(1).some((s) => /\sT/.test(s));
  const [onA, onB] = [await running(a, name), await running(b, name)];
  const aStopped = onA === 'true' && (await stopped(a));
  return { runningOnA: onA === 'true' && !aStopped ? 1 : 0, stoppedOnA: aStopped ? 1 : 0, runningOnB: onB === 'true' && !(await stopped(b)) ? 1 : 0 };
}

/** A tree (memload with a size no other test uses; the lab's hosts share one PID space): its copies. */
async function treeCopies(mib: number, sourcePid: number): Promise<Copies & { onB?: number }> {
  const c: Copies & { onB?: number } = { runningOnA: 0, stoppedOnA: 0, runningOnB: 0 };
  for (const pid of (await memloadCopies(a, mib)).map(Number)) {
    const st = (await procStat(a, pid))?.state;
    if (pid === sourcePid) {
      if (st === 'T' || st === 't') c.stoppedOnA++;
      else if (st && st !== 'Z') c.runningOnA++;
    } else if (st && st !== 'Z' && st !== 'T') {
      c.runningOnB++;
      c.onB = pid;
    }
  }
  return c;
}

/** Waits until the copies settled (exactly one runs); returns where. */
async function settled(t: ExecutionContext, copies: () => Promise<Copies>): Promise<'A' | 'B'> {
  // The guards decide where it runs: until they are done, a moment with the target's copy still
  // running and the source's still stopped would look settled on B (seen in CI: SIGKILL in the
  // post-copy window judged "B" before the target's guard had killed its incomplete copy).
  t.true(await until(async () => !(await guardsAlive()), 120_000), 'the guards finished');
  let last: Copies = { runningOnA: 0, stoppedOnA: 0, runningOnB: 0 };
  const ok = await until(async () => {
    last = await copies();
    return last.runningOnA + last.runningOnB === 1;
  }, 60_000);
  t.true(ok, `exactly one copy runs (${JSON.stringify(last)})`);
  return last.runningOnB === 1 ? 'B' : 'A';
}

/** Whether a host guard still works on either host (the lab's hosts share one PID space). */
const guardsAlive = async () => (await a.exec(['pgrep', '-f', 'host-guard [0-9]+ /run/migrate/'], { allowFailure: true })).exitCode === 0;

async function noLeftovers(t: ExecutionContext, dirs: () => Promise<number>, confs: Array<string | null>): Promise<void> {
  t.true(await until(async () => !(await guardsAlive()), 120_000), 'the guards finished');
  t.true(await until(async () => (await dirs()) === 0, 60_000), 'no image directory on either host');
  t.deepEqual([await runcConf(a), await runcConf(b)], confs, 'runc.conf as before on both hosts');
}

for (const p of PHASES) {
  for (const signal of SIGNALS) {
    test.serial(`${signal} during ${p.phase} of a container: it runs exactly once, nothing is left, the next run migrates`, async (t) => {
      t.true(await until(async () => !(await guardsAlive()), 120_000), 'no guard of an earlier test still works');
      const name = await startContainer(a, p.mib, 20);
      const id = await containerId(a, name);
      const confs = [await runcConf(a), await runcConf(b)];
      try {
        const r = await signalled([name, '--to', lab.target], p, signal);
        t.true(r.sent, `the signal was sent (${r.stderr})`);
        t.log(r.stderr.trim().split('\n').slice(-2).join(' | '));
        const said = signal === 'SIGKILL' ? undefined : checkHandled(t, r, p, signal);
        const where = await settled(t, () => containerCopies(name));
        t.log(`runs on ${where}`);
        if (said) t.is(where, said === 'source' ? 'A' : 'B', 'where the report says');
        if (beforeRestore(p) || (signal === 'SIGKILL' && p.phase === 'the post-copy window')) t.is(where, 'A', 'back on the source');
        const host = where === 'A' ? a : b;
        const before = tickNums(await logs(host, name)).length;
        await sleep(500);
        const nums = tickNums(await logs(host, name));
        t.true(nums.length > before, 'its counter goes on');
        if (where === 'A') t.true(continuous(nums), 'without gap or repeat');
        else t.true(continuous(nums) && nums[0]! > 1, 'on B, from where it stopped on A, without gap or repeat');
        t.truthy(await checksum(host, name), 'memory intact');
        await noLeftovers(t, async () => (await imageDirsOf(a, id)) + (await imageDirsOf(b, id)), confs);

        // The next run: from A if a copy is left there (stopped: the run settles it first), else back from B.
        const fromB = where === 'B' && (await containerCopies(name)).stoppedOnA === 0 && (await running(a, name)) === '';
        const next = await run('node', [CLI, name, ...(fromB ? ['--from', lab.target, '--to', lab.source] : ['--to', lab.target]), '--json'], { env: process.env });
        const report = JSON.parse(next.stdout);
        t.is(report.outcome, 'migrated', 'the next run succeeds');
        t.is(report.runs_on, 'target');
        const once = await containerCopies(name);
        t.deepEqual(once, fromB ? { runningOnA: 1, stoppedOnA: 0, runningOnB: 0 } : { runningOnA: 0, stoppedOnA: 0, runningOnB: 1 }, 'and it runs once');
        t.is(await running(fromB ? b : a, name), '', 'nothing of it is left where it came from');
      } finally {
        await removeEverywhere(name, a, b);
      }
    });
  }
}

let treeMib = 100;
for (const p of PHASES) {
  for (const signal of SIGNALS) {
    test.serial(`${signal} during ${p.phase} of a process tree: it runs exactly once, nothing is left, the next run migrates`, async (t) => {
      t.true(await until(async () => !(await guardsAlive()), 120_000), 'no guard of an earlier test still works');
      const mib = p.mib + ++treeMib; // a size of its own: its copies are found by it
      const dir = await tempDir(a, SHARED_DIR);
      const w = await startTree(a, lab.memload, ['--mib', String(mib), '--tick-ms', '20'], dir);
      const confs = [await runcConf(a), await runcConf(b)];
      try {
        await sleep(300);
        const r = await signalled(['--pid', String(w.pid), '--to', lab.target], p, signal);
        t.true(r.sent, `the signal was sent (${r.stderr})`);
        t.log(r.stderr.trim().split('\n').slice(-2).join(' | '));
        const said = signal === 'SIGKILL' ? undefined : checkHandled(t, r, p, signal);
        const where = await settled(t, () => treeCopies(mib, w.pid));
        t.log(`runs on ${where}`);
        if (said) t.is(where, said === 'source' ? 'A' : 'B', 'where the report says');
        if (beforeRestore(p) || (signal === 'SIGKILL' && p.phase === 'the post-copy window')) t.is(where, 'A', 'back on the source');
        const before = (await ticks(a, w.out)).length;
        await sleep(500);
        const nums = await ticks(a, w.out);
        t.true(nums.length > before && continuous(nums), 'its counter goes on without gap or repeat (one output file for both hosts)');
        const pid = where === 'A' ? w.pid : (await treeCopies(mib, w.pid)).onB!;
        t.truthy(await treeChecksum(where === 'A' ? a : b, pid, w.out), 'memory intact');
        const dirs = async () => Number((await a.exec(['sh', '-c', 'ls -d /var/lib/migrate/pid-$1-* 2>/dev/null | wc -l', 'n', String(w.pid)])).stdout.trim());
        await noLeftovers(t, dirs, confs);

        // The next run: from A if the tree is still there (stopped: the run settles it first), else back from B.
        const fromB = where === 'B' && (await procStat(a, w.pid)) === undefined;
        const pidNow = fromB ? (await treeCopies(mib, w.pid)).onB! : w.pid;
        const next = await run('node', [CLI, '--pid', String(pidNow), ...(fromB ? ['--from', lab.target, '--to', lab.source] : ['--to', lab.target]), '--json'], { env: process.env });
        const report = JSON.parse(next.stdout);
        t.is(report.outcome, 'migrated', 'the next run succeeds');
        t.is(report.runs_on, 'target');
        const copies = (await memloadCopies(a, mib)).map(Number);
        const live = [];
        for (const p of copies) if (!['T', 'Z', undefined].includes((await procStat(a, p))?.state)) live.push(p);
        t.is(live.length, 1, `it runs once (${copies.length} copies)`);
      } finally {
        for (const pid of await memloadCopies(a, mib)) await a.exec(['kill', '-KILL', pid], { allowFailure: true });
        await a.exec(['rm', '-rf', dir]);
      }
    });
  }
}
