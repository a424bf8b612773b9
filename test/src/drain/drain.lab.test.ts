/**
 * Draining host A into B through the CLI (issue 19): a plan, a dry run that freezes nothing and
 * matches what the real run does, five containers of different sizes (one with a volume) two at
 * a time with continuous counters, a drain SIGKILLed after its second container and resumed
 * (each container runs exactly once, on B), undrain back to A, and --keep-going past a
 * container whose preflight fails.
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../../transports/transport.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { CLI } from '../../helpers/cli.js';
import { SHARED_DIR, continuous, startTree, tempDir } from '../../helpers/workload.js';
import { logs, removeEverywhere, running, tickNums } from '../../helpers/containers.js';

const run = promisify(execFile);
const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
const tag = `${process.pid}`;
const names: string[] = [];
const volumes: string[] = [];

test.after.always(async () => {
  for (const name of names) await removeEverywhere(name, a, b);
  for (const v of volumes) for (const h of [a, b]) await h.exec(['docker', 'volume', 'rm', '-f', v], { allowFailure: true });
  await b.close();
});

/** Starts memload containers labelled `drain=GROUP`, of these sizes (MiB); the second one with a volume holding a file. */
async function startGroup(group: string, sizes: number[], extra: (i: number) => string[] = () => []): Promise<string[]> {
  const started: string[] = [];
  for (const [i, mib] of sizes.entries()) {
    const name = `drain-${tag}-${group}-${i + 1}`;
    names.push(name);
    const volume = i === 1 ? [`--volume`, `${name}-data:/data`] : [];
    if (volume.length) volumes.push(`${name}-data`);
    await a.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--label', `drain=${tag}-${group}`, '--security-opt', 'seccomp=unconfined',
      ...volume, ...extra(i), lab.image, '--mib', String(mib), '--tick-ms', '50']);
    started.push(name);
  }
  for (const name of started) {
    for (let i = 0; i < 100 && !/^tick /m.test(await logs(a, name)); i++) await sleep(100);
  }
  await a.exec(['docker', 'exec', started[1]!, 'sh', '-c', 'echo kept > /data/f']);
  return started;
}

const cli = async (args: string[]) => {
  const r = await run('node', [CLI, ...args], { env: process.env, maxBuffer: 64 << 20 }).catch((e: { stdout: string; stderr: string; code: number }) => e);
  return { report: JSON.parse(r.stdout) as DrainJson, stderr: r.stderr, code: 'code' in r ? r.code : 0 };
};

interface DrainJson {
  id: string | null;
  outcome: string;
  plan: { moves: Array<{ name: string; to: string | null; strategy: string | null; rss: number }> };
  containers: Array<{ name: string; to: string | null; strategy: string | null; outcome: string; runs_on: string; freeze_ms: number | null; reason?: string }>;
  totals: { migrated: number; failed: number };
}

/** Where each container runs: [running on A, running on B]. */
async function whereRunning(list: string[]): Promise<Array<[boolean, boolean]>> {
  return Promise.all(list.map(async (n) => [(await running(a, n)) === 'true', (await running(b, n)) === 'true'] as [boolean, boolean]));
}

/** The largest gap between two ticks (ms) in a container's log on `h`. */
async function longestGap(h: Transport, name: string): Promise<number> {
  const stamps = [...(await logs(h, name)).matchAll(/^tick \d+ (\d+)$/gm)].map((m) => Number(m[1]) / 1000);
  return Math.max(0, ...stamps.slice(1).map((s, i) => s - stamps[i]!));
}

const select = (group: string) => ['--select', `label=drain=${tag}-${group}`];

test.serial('dry run freezes nothing; the drain (5 containers, 2 at a time) does what it planned; undrain brings them all back', async (t) => {
  const group = await startGroup('main', [24, 64, 8, 40, 16]);
  const dry = await cli(['drain', '--to', lab.target, ...select('main'), '--parallel', '2', '--dry-run', '--json']);
  t.is(dry.code, 0, dry.stderr);
  t.is(dry.report.outcome, 'dry-run');
  t.deepEqual(dry.report.containers.map((c) => c.outcome), ['ready', 'ready', 'ready', 'ready', 'ready']);
  t.deepEqual(dry.report.plan.moves.map((m) => m.name), [group[1], group[3], group[0], group[4], group[2]], 'largest memory first');
  for (const name of group) t.true(await longestGap(a, name) < 400, `${name} was not frozen by the dry run`);
  t.deepEqual(await whereRunning(group), group.map(() => [true, false]));

  const real = await cli(['drain', '--to', lab.target, ...select('main'), '--parallel', '2', '--json']);
  t.is(real.code, 0, real.stderr);
  t.is(real.report.outcome, 'drained');
  t.regex(real.report.id!, /^\d{8}-\d{4}-[0-9a-f]{6}$/);
  const did = real.report.containers.map((c) => [c.name, c.to, c.strategy]);
  t.deepEqual(did, dry.report.plan.moves.map((m) => [m.name, m.to, m.strategy]), 'what the dry run planned');
  t.deepEqual(await whereRunning(group), group.map(() => [false, true]));
  await sleep(300);
  for (const name of group) t.true(continuous(tickNums(await logs(b, name))), `${name}'s counter on B`);
  t.is((await b.exec(['docker', 'exec', group[1]!, 'cat', '/data/f'])).stdout.trim(), 'kept');
  t.log(real.report.containers.map((c) => `${c.name} ${c.strategy} ${c.freeze_ms} ms`).join(', '));

  const back = await cli(['undrain', real.report.id!, '--parallel', '2', '--json']);
  t.is(back.code, 0, back.stderr);
  t.is(back.report.outcome, 'drained');
  t.deepEqual(await whereRunning(group), group.map(() => [true, false]));
  await sleep(300);
  for (const name of group) t.true(continuous(tickNums(await logs(a, name))), `${name}'s counter back on A`);
  t.is((await a.exec(['docker', 'exec', group[1]!, 'cat', '/data/f'])).stdout.trim(), 'kept');
});

test.serial('a drain SIGKILLed after its second container is resumed: every container runs exactly once, on B', async (t) => {
  const group = await startGroup('kill', [16, 16, 16, 16, 16]);
  const child = spawn('node', [CLI, 'drain', '--to', lab.target, ...select('kill'), '--order', 'name'], { env: process.env });
  let stderr = '';
  let killed = false;
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
    if (!killed && (stderr.match(/^migrate: \S+: migrated/gm) ?? []).length >= 2) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  await new Promise((resolve) => child.on('close', resolve));
  t.true(killed, stderr);
  const id = /^migrate: drain (\S+): /m.exec(stderr)?.[1];
  t.truthy(id, stderr);
  const resumed = await cli(['drain', '--resume', id!, '--json']);
  t.is(resumed.code, 0, resumed.stderr);
  t.is(resumed.report.outcome, 'drained');
  t.deepEqual(await whereRunning(group), group.map(() => [false, true]), 'exactly once, on B');
  for (const name of group) {
    const ids = (await b.exec(['docker', 'ps', '-q', '--filter', `name=^${name}$`])).stdout.trim().split('\n').filter(Boolean);
    t.is(ids.length, 1, `${name}: one container on B`);
  }
  await sleep(300);
  for (const name of group) t.true(continuous(tickNums(await logs(b, name))), `${name}'s counter on B`);
});

test.serial('--keep-going: a container whose preflight fails stays on A and is reported; the others move; exit 1', async (t) => {
  // A terminal (-t) cannot be checkpointed: refused in preflight.
  const group = await startGroup('keep', [8, 8, 8], (i) => (i === 0 ? ['-t'] : []));
  const r = await cli(['drain', '--to', lab.target, ...select('keep'), '--keep-going', '--order', 'name', '--json']);
  t.is(r.code, 1);
  t.is(r.report.outcome, 'partial');
  const bad = r.report.containers.find((c) => c.name === group[0])!;
  t.is(bad.outcome, 'failed');
  t.is(bad.runs_on, 'source');
  t.regex(bad.reason!, /terminal/);
  t.deepEqual(r.report.containers.filter((c) => c.name !== group[0]).map((c) => c.outcome), ['migrated', 'migrated']);
  t.deepEqual(await whereRunning(group), [[true, false], [false, true], [false, true]]);
});

test.serial('--prefetch reaches every move: a post-copy drain with --prefetch off moves without the prefetcher, its undrain repeats the drain\'s strategy and, given --prefetch auto, uses it', async (t) => {
  const group = await startGroup('prefetch', [16, 8]);
  const prefetchOf = (r: DrainJson) => r.containers.map((c) => [c.name, c.strategy, (c as unknown as { report?: { prefetch?: { used: boolean; reason?: string } } }).report?.prefetch]);
  const off = await cli(['drain', '--to', lab.target, ...select('prefetch'), '--strategy', 'postcopy', '--prefetch', 'off', '--order', 'name', '--json']);
  t.is(off.code, 0, off.stderr);
  t.deepEqual(prefetchOf(off.report), group.map((n) => [n, 'postcopy', { used: false, reason: '--prefetch off' }]));
  const back = await cli(['undrain', off.report.id!, '--prefetch', 'auto', '--json']);
  t.is(back.code, 0, back.stderr);
  t.deepEqual(prefetchOf(back.report).map(([n, s, p]) => [n, s, (p as { used: boolean }).used, typeof (p as { stats?: { pages_served: number } }).stats?.pages_served]), group.map((n) => [n, 'postcopy', true, 'number']));
  t.deepEqual(await whereRunning(group), group.map(() => [true, false]));
  await sleep(300);
  for (const name of group) t.true(continuous(tickNums(await logs(a, name))), `${name}'s counter back on A`);
});

test.serial('--pids: a process tree drains with a container and comes back with undrain, its counter continuous', async (t) => {
  const [name] = await startGroup('tree', [8, 8]);
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', '8', '--tick-ms', '20'], dir);
  let onB = 0;
  let back = 0;
  try {
    const r = await cli(['drain', '--to', lab.target, '--select', `name=^${name}$`, '--pids', String(w.pid), '--json']);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(r.report.containers.map((c) => [c.name, c.outcome]).sort(), [[name, 'migrated'], [`pid ${w.pid}`, 'migrated']].sort());
    const moved = (r.report.containers.find((c) => c.name === `pid ${w.pid}`) as unknown as { report: { workload: { target: string } } }).report;
    onB = Number(/^pid (\d+)$/.exec(moved.workload.target)?.[1]);
    t.true(onB > 0);
    const undo = await cli(['undrain', r.report.id!, '--json']);
    t.is(undo.code, 0, undo.stderr);
    const tree = (undo.report.containers.find((c) => c.name === `pid ${onB}`) as unknown as { report: { workload: { target: string } } }).report;
    back = Number(/^pid (\d+)$/.exec(tree.workload.target)?.[1]);
    t.true(back > 0);
    await sleep(300);
    t.true(continuous(tickNums((await a.exec(['cat', w.out])).stdout)), 'one counter across A → B → A');
    t.is((await a.exec(['sh', '-c', `grep -c . /proc/${back}/status >/dev/null && echo alive`])).stdout.trim(), 'alive');
  } finally {
    for (const p of [back, onB, w.pid]) if (p) await a.exec(['kill', '-KILL', String(p)], { allowFailure: true });
    await a.exec(['rm', '-rf', dir], { allowFailure: true });
  }
});
