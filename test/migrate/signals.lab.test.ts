/**
 * Signals to `migrate` itself, through the real binary against the lab, as maintenance scripts
 * send them (`timeout`, a service manager, a closed terminal, `kill -9`): before the freeze it
 * stops; after it the workload goes back to the source; killed outright, the hosts' guards put
 * everything back. Each time: the workload runs exactly once, its counter continuous, runc.conf
 * as it was, no twin and no image directory left, and the next migrate succeeds.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LocalTransport } from '../../transports/local.js';
import { SshTransport } from '../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../transports/transport.js';
import { ensureLab, sshOpts } from '../helpers/lab.js';
import { CLI, runSignalled } from '../helpers/cli.js';
import { procStat } from '../../src/process/tree.js';
import { continuous, startTree, tempDir, ticks, SHARED_DIR } from '../helpers/workload.js';
import { containerId, exists, imageDirsOf, logs, removeEverywhere, running, startContainer, tickNums } from '../helpers/containers.js';

const run = promisify(execFile);
const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

/** runc.conf on a host: its text, or null when there is none. */
const runcConf = async (t: Transport) => {
  const r = await t.exec(['cat', '/etc/criu/runc.conf'], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : null;
};

/** The CLI signalled `delayMs` after stderr shows `when`; SIGKILL goes to its whole process group. */
const signalled = (args: string[], when: RegExp, delayMs: number, signal: NodeJS.Signals) =>
  runSignalled(args, when, delayMs, signal, signal === 'SIGKILL' ? 'group' : 'process');

async function until(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) if (await cond()) return true;
  return cond();
}

/** The container runs once, on A, counting on; B holds nothing of it; runc.conf as before. */
async function assertBackOnA(t: ExecutionContext, name: string, id: string, confs: Array<string | null>): Promise<void> {
  t.true(await until(async () => (await running(a, name)) === 'true' && (await a.exec(['docker', 'top', name, '-o', 'pid,stat'])).stdout.split('\n').slice(1).every((s) => !/\sT/.test(s)), 30_000), 'runs on A, not stopped');
  t.true(await until(async () => !(await exists(b, name)), 30_000), 'no twin on B');
  t.true(await until(async () => (await imageDirsOf(a, id)) + (await imageDirsOf(b, id)) === 0, 30_000), 'no image directory on either host');
  t.deepEqual([await runcConf(a), await runcConf(b)], confs, 'runc.conf as before on both hosts');
  const before = tickNums(await logs(a, name)).length;
  await sleep(600);
  const after = tickNums(await logs(a, name));
  t.true(after.length > before, 'its counter goes on');
  t.true(continuous(after), 'without gap or repeat');
}

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  test.serial(`${signal} during the dump: rolled back, exit 1, the container runs on the source`, async (t) => {
    const name = await startContainer(a, 256);
    const id = await containerId(a, name);
    const confs = [await runcConf(a), await runcConf(b)];
    try {
      const r = await signalled([name, '--to', lab.target, '--json', '--strategy', 'cold'], /migrate: checkpoint \(/, 150, signal);
      t.true(r.sent);
      t.is(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout);
      t.is(report.outcome, 'rolled-back');
      t.is(report.runs_on, 'source');
      t.is(report.error.code, 'INTERRUPTED');
      t.regex(r.stderr, new RegExp(`interrupted \\(${signal}\\)`));
      await assertBackOnA(t, name, id, confs);
    } finally {
      await removeEverywhere(name, a, b);
    }
  });
}

test.serial('SIGTERM during preflight: exit 1, nothing frozen, nothing made on the target', async (t) => {
  const name = await startContainer(a, 16);
  const id = await containerId(a, name);
  const confs = [await runcConf(a), await runcConf(b)];
  try {
    const r = await signalled([name, '--to', lab.target, '--json'], /migrate: preflight \(local\)/, 0, 'SIGTERM');
    t.is(r.code, 1, r.stderr);
    t.is(JSON.parse(r.stdout).error.code, 'INTERRUPTED');
    await assertBackOnA(t, name, id, confs);
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('SIGKILL to migrate and its process group during the dump: the guards resume the container on A and clear B; the next run migrates', async (t) => {
  const name = await startContainer(a, 256);
  const id = await containerId(a, name);
  const confs = [await runcConf(a), await runcConf(b)];
  try {
    const r = await signalled([name, '--to', lab.target, '--strategy', 'cold'], /migrate: checkpoint \(/, 200, 'SIGKILL');
    t.true(r.sent);
    t.is(r.code, null, 'killed');
    await assertBackOnA(t, name, id, confs);
    const { stdout } = await run('node', [CLI, name, '--to', lab.target, '--json'], { env: process.env });
    t.is(JSON.parse(stdout).outcome, 'migrated', 'the next run succeeds');
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('SIGKILL during the dump of a process tree: its guard resumes the tree on A once CRIU let go; the next run migrates', async (t) => {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', '256', '--tick-ms', '20'], dir);
  let restored: number | undefined;
  try {
    await sleep(300);
    const r = await signalled(['--pid', String(w.pid), '--to', lab.target, '--strategy', 'cold'], /migrate: checkpoint \(/, 100, 'SIGKILL');
    t.true(r.sent);
    const state = async () => (await procStat(a, w.pid))?.state ?? 'gone';
    t.true(await until(async () => ['S', 'R'].includes(await state()), 30_000), `the tree runs on A (state ${await state()})`);
    const before = (await ticks(a, w.out)).length;
    await sleep(500);
    const after = await ticks(a, w.out);
    t.true(after.length > before && continuous(after), 'its counter goes on without gap or repeat');
    t.true(await until(async () => (await a.exec(['sh', '-c', 'ls -d /var/lib/migrate/pid-$1-* 2>/dev/null | wc -l', 'n', String(w.pid)])).stdout.trim() === '0', 30_000), 'no image directory left');
    const { stdout } = await run('node', [CLI, '--pid', String(w.pid), '--to', lab.target, '--json'], { env: process.env });
    const report = JSON.parse(stdout);
    t.is(report.outcome, 'migrated', 'the next run succeeds');
    restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
  } finally {
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    if (restored) await b.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
  }
});
