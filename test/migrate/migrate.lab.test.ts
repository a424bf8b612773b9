/** `migrate` through the real binary against the lab: JSON reports, exit codes, Ctrl-C. */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LocalTransport } from '../../transports/local.js';
import { SshTransport } from '../../transports/ssh/ssh-transport.js';
import { ensureLab, REPO, sshOpts } from '../helpers/lab.js';
import { runSignalled } from '../helpers/cli.js';
import { continuous, startTree, tempDir } from '../helpers/workload.js';
import { containerId, exists, imageDirsOf, logs, removeEverywhere, running, startContainer, tickNums } from '../helpers/containers.js';

const run = promisify(execFile);
const lab = ensureLab();
const CLI = join(REPO, 'dist/migrate/cli.js');
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

test.serial('migrate CONTAINER --json: one JSON report on stdout with the documented fields, exit 0', async (t) => {
  const name = await startContainer(a, 16);
  try {
    const { stdout, stderr } = await run('node', [CLI, name, '--to', lab.target, '--json'], { env: process.env });
    const r = JSON.parse(stdout);
    t.is(r.outcome, 'migrated');
    t.is(r.runs_on, 'target');
    t.is(r.strategy, 'cold');
    t.is(r.pages, 'page-server');
    t.true(r.freeze_ms > 0);
    for (const p of ['checkpoint', 'transfer', 'restore']) t.is(typeof r.phases_ms[p], 'number');
    t.true(r.bytes.raw > 16 * 2 ** 20 && r.bytes.wire > 0);
    t.true(r.criu.dump.pagesWritten > 0 && r.criu.restore.restoreTimeUs > 0);
    t.regex(stderr, /migrate: checkpoint \(local\)/, 'progress goes to stderr');
    t.is(await running(b, name), 'true');
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('migrate --pid: a process tree moves through the CLI', async (t) => {
  const dir = await tempDir(a, '/var/tmp/migrate-tree-tests');
  const w = await startTree(a, lab.memload, ['--mib', '8', '--tick-ms', '20'], dir);
  let restored = 0;
  try {
    const { stdout } = await run('node', [CLI, '--pid', String(w.pid), '--to', lab.target, '--json'], { env: process.env });
    const r = JSON.parse(stdout);
    t.is(r.outcome, 'migrated');
    t.is(r.workload.kind, 'process-tree');
    restored = Number(/^pid (\d+)$/.exec(r.workload.target)?.[1]);
    await sleep(300);
    t.true(continuous(tickNums((await a.exec(['cat', w.out])).stdout)));
  } finally {
    if (restored) await b.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await a.exec(['rm', '-rf', dir]);
  }
});


for (const [mode, when, delay] of [['stream', /migrate: transfer \(/, 200], ['page-server', /migrate: checkpoint \(/, 300]] as const) {
  test.serial(`Ctrl-C (SIGINT) mid-migration (--pages ${mode}) puts the workload back on the source, exit 1`, async (t) => {
    const name = await startContainer(a, 256);
    try {
      const r = await runSignalled([name, '--to', lab.target, '--json', '--strategy', 'cold', '--pages', mode], when, delay, 'SIGINT', 'group');
      t.true(r.sent);
      t.is(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout);
      t.is(report.outcome, 'rolled-back');
      t.is(report.runs_on, 'source');
      t.is(report.error.code, 'INTERRUPTED');
      t.regex(r.stderr, /interrupted/);
      t.is(await running(a, name), 'true');
      t.false(await exists(b, name), 'no half-made twin on B');
      await sleep(300);
      t.true(continuous(tickNums(await logs(a, name))));
    } finally {
      await removeEverywhere(name, a, b);
    }
  });
}

test.serial('migrate killed outright (SIGKILL) mid-transfer: its guard resumes the workload on the source', async (t) => {
  const name = await startContainer(a, 256);
  try {
    const child = spawn('node', [CLI, name, '--to', lab.target, '--strategy', 'cold', '--pages', 'stream'], { env: process.env, detached: true });
    let stderr = '';
    const killed = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        if (/migrate: transfer \(/.test(stderr)) {
          process.kill(-child.pid!, 'SIGKILL');
          resolve();
        }
      });
    });
    await killed;
    await new Promise((resolve) => child.on('close', resolve));
    const before = tickNums(await logs(a, name)).length;
    let after: number[] = [];
    for (let i = 0; i < 60 && after.length <= before; i++) { // the guard lets a second pass first (a command just sent)
      await sleep(500);
      after = tickNums(await logs(a, name));
    }
    t.true(after.length > before, `ticks on A went on (${before} → ${after.length})`);
    t.true(continuous(after));
    t.not(await running(b, name), 'true', 'never started on B');

    // The guards on both hosts removed what the dead run made (the twin that never ran, the image
    // directories); the next run of the same container clears the rest and migrates.
    const id = await containerId(a, name);
    for (let i = 0; i < 50 && (await exists(b, name)); i++) await sleep(200);
    t.false(await exists(b, name), 'the twin that never ran is gone');
    const { stdout } = await run('node', [CLI, name, '--to', lab.target, '--json'], { env: process.env });
    t.is(JSON.parse(stdout).outcome, 'migrated');
    for (const h of [a, b]) t.is(await imageDirsOf(h, id), 0, `no images left on ${h.name}`);
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('an unreachable target: exit 1, JSON says the workload runs on the source, nothing frozen', async (t) => {
  const name = await startContainer(a, 8);
  try {
    const e = await t.throwsAsync(run('node', [CLI, name, '--to', 'ssh://root@10.231.0.99', '--json'], { env: process.env, timeout: 90_000 }));
    t.is((e as any).code, 1);
    const r = JSON.parse((e as any).stdout);
    t.is(r.outcome, 'failed');
    t.is(r.runs_on, 'source');
    t.is(r.error.code, 'SSH_UNREACHABLE');
    t.is(await running(a, name), 'true');
  } finally {
    await removeEverywhere(name, a, b);
  }
});
