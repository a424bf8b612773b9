/**
 * `migrate recover` against leftovers staged as a run that died would leave them: a stopped copy
 * on the source, a twin on the target (running, or never started) or a restored tree's record,
 * runc.conf still overridden, image directories on both hosts. Afterwards exactly one copy runs
 * and nothing is left. The next migrate does the same first.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../../transports/transport.js';
import { isMigrateError } from '../../../transports/errors.js';
import { TWIN_LABEL } from '../../../src/docker/container.js';
import { recover } from '../../../src/migration/recover.js';
import { MARKER, RUNC_CONF, RUNC_CONF_BACKUP } from '../../../src/runc/runc-conf.js';
import { ensureLab, REPO, sshOpts } from '../../helpers/lab.js';
import { continuous, memloadCopies, startTree, tempDir, ticks, SHARED_DIR, type Workload } from '../../helpers/workload.js';
import { procStat } from '../../../src/process/tree.js';
import { containerId, exists, imageDirsOf, logs, removeEverywhere, running, startContainer, tickNums } from '../../helpers/containers.js';

const run = promisify(execFile);
const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());
const CLI = join(REPO, 'dist/migrate/cli.js');

const read = async (t: Transport, path: string) => {
  const r = await t.exec(['cat', path], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : null;
};
const write = (t: Transport, path: string, text: string | null) =>
  text === null ? t.exec(['rm', '-f', path]) : t.exec(['sh', '-c', 'cat > "$1"', 'w', path], { input: text });

/** Stages what a dead run leaves; returns the previous runc.conf files to put back after the test. */
async function stage(name: string, twin: 'running' | 'created'): Promise<{ id: string; saved: Array<[Transport, string | null, string | null]> }> {
  const id = await containerId(a, name);
  const saved: Array<[Transport, string | null, string | null]> = [];
  for (const h of [a, b]) {
    saved.push([h, await read(h, RUNC_CONF), await read(h, RUNC_CONF_BACKUP)]);
    await h.exec(['mkdir', '-p', '/etc/criu']);
    await write(h, RUNC_CONF_BACKUP, '# the file before the dead run\n');
    await write(h, RUNC_CONF, `${MARKER}\nimages-dir /var/lib/migrate/x\n`);
    await h.exec(['mkdir', '-p', `/var/lib/migrate/${id.slice(0, 12)}-1796000000000/images`]);
  }
  await b.exec(['docker', twin === 'running' ? 'run' : 'create', ...(twin === 'running' ? ['-d'] : []), '--name', name, '--label', 'migrate.lab=1',
    '--label', `${TWIN_LABEL}=${id}`, '--security-opt', 'seccomp=unconfined', lab.image, '--mib', '8', '--tick-ms', '50']);
  await a.exec(['sh', '-c', 'kill -STOP $(docker top "$1" -eo pid | tail -n +2)', 'stop', name]);
  return { id, saved };
}

async function restoreConfs(saved: Array<[Transport, string | null, string | null]>): Promise<void> {
  for (const [h, conf, backup] of saved) {
    await write(h, RUNC_CONF, conf);
    await write(h, RUNC_CONF_BACKUP, backup);
  }
}

async function assertClean(t: ExecutionContext, id: string): Promise<void> {
  for (const h of [a, b]) {
    t.is(await read(h, RUNC_CONF), '# the file before the dead run\n', `runc.conf put back on ${h.name}`);
    t.is(await imageDirsOf(h, id), 0, `no image directory on ${h.name}`);
  }
}

test.serial('the twin never ran: recover removes it and resumes the stopped container on the source', async (t) => {
  const name = await startContainer(a, 16);
  const { id, saved } = await stage(name, 'created');
  try {
    const r = await recover({ source: a, target: b, workload: { container: name }, resumeUnmarked: true });
    t.is(r.runs_on, 'source');
    t.true(r.actions.some((x: string) => /resumed the stopped container/.test(x)), r.actions.join('; '));
    t.false(await exists(b, name), 'no twin left');
    await assertClean(t, id);
    const before = tickNums(await logs(a, name)).length;
    await sleep(500);
    const after = tickNums(await logs(a, name));
    t.true(after.length > before && continuous(after), 'it counts on, without gap or repeat');
  } finally {
    await restoreConfs(saved);
    await removeEverywhere(name, a, b);
  }
});

test.serial('the twin runs on the target: recover ends the stopped source copy (CLI, --json); a second recover finds nothing', async (t) => {
  const name = await startContainer(a, 16);
  const { id, saved } = await stage(name, 'running');
  try {
    const { stdout } = await run('node', [CLI, 'recover', name, '--to', lab.target, '--json'], { env: process.env });
    const r = JSON.parse(stdout);
    t.is(r.runs_on, 'target');
    t.true(r.actions.some((x: string) => /ended the stopped copy/.test(x)), r.actions.join('; '));
    t.false(await exists(a, name), 'the stopped copy is gone from the source');
    t.is(await running(b, name), 'true');
    await assertClean(t, id);
    const again = await run('node', [CLI, 'recover', name, '--to', lab.target, '--from', lab.source, '--json'], { env: process.env })
      .catch((e: { stdout: string }) => e);
    t.regex(again.stdout, /no container/, 'the container is gone from the source: nothing to recover there');
  } finally {
    await restoreConfs(saved);
    await removeEverywhere(name, a, b);
  }
});

test.serial('a container running on both hosts is refused: recover does not choose', async (t) => {
  const name = await startContainer(a, 16);
  const id = await containerId(a, name);
  try {
    await b.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--label', `${TWIN_LABEL}=${id}`, '--security-opt', 'seccomp=unconfined', lab.image, '--mib', '8']);
    const e = await t.throwsAsync(recover({ source: a, target: b, workload: { container: name }, resumeUnmarked: true }));
    t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
    t.regex(e!.message, /runs on both hosts/);
    t.is(await running(a, name), 'true');
    t.is(await running(b, name), 'true');
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('the next migrate finishes what a dead run left: its twin runs on B, so it ends the stopped copy on A and says migrated', async (t) => {
  const name = await startContainer(a, 16);
  const { id, saved } = await stage(name, 'running');
  try {
    const { stdout } = await run('node', [CLI, name, '--to', lab.target, '--json'], { env: process.env });
    const r = JSON.parse(stdout);
    t.is(r.outcome, 'migrated');
    t.is(r.runs_on, 'target');
    t.is(r.freeze_ms, null, 'nothing was frozen by this run');
    t.true(r.recovered.some((x: string) => /ended the stopped copy/.test(x)), r.recovered.join('; '));
    t.false(await exists(a, name));
    t.is(await running(b, name), 'true');
    await assertClean(t, id);
  } finally {
    await restoreConfs(saved);
    await removeEverywhere(name, a, b);
  }
});

/** A tree stopped on A as a dead run leaves it, and on B a copy of it (`alive`) or a dead PID, recorded as a restore records it. */
async function stageTree(mib: number, alive: boolean): Promise<{ w: Workload; copy?: Workload; record: string; dirs: string[] }> {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', String(mib), '--tick-ms', '20'], dir);
  const start = (await procStat(a, w.pid))!.startTime;
  await a.exec(['kill', '-STOP', String(w.pid)]);
  const copyDir = await tempDir(a, SHARED_DIR);
  const copy = alive ? await startTree(b, lab.memload, ['--mib', String(mib), '--tick-ms', '20'], copyDir) : undefined;
  const record = `/var/lib/migrate/pid-${w.pid}-${start}-1796000000000.pid`;
  await b.exec(['sh', '-c', 'mkdir -p /var/lib/migrate && echo "$2" > "$1"', 'rec', record, String(copy?.pid ?? 4194000)]);
  return { w, copy, record, dirs: [dir, copyDir] };
}

test.serial('a tree restored on B by a run that died: recover --pid ends the stopped copy on A', async (t) => {
  const { w, copy, record, dirs } = await stageTree(47, true);
  try {
    const { stdout } = await run('node', [CLI, 'recover', '--pid', String(w.pid), '--to', lab.target, '--json'], { env: process.env });
    const r = JSON.parse(stdout);
    t.is(r.workload, `process tree ${w.pid}`);
    t.is(r.runs_on, 'target');
    t.true(r.actions.some((x: string) => /ended the stopped copy/.test(x)), r.actions.join('; '));
    t.is(await procStat(a, w.pid), undefined, 'the stopped copy is gone');
    t.is((await procStat(b, copy!.pid))?.state === 'T', false, 'the copy on B runs');
    t.is((await b.exec(['test', '-e', record], { allowFailure: true })).exitCode, 1, 'the record is removed');
  } finally {
    for (const p of await memloadCopies(a, 47)) await a.exec(['kill', '-KILL', p], { allowFailure: true });
    await a.exec(['rm', '-rf', ...dirs]);
  }
});

test.serial('a tree whose restore does not run on B: recover --pid resumes it on A, counting on', async (t) => {
  const { w, record, dirs } = await stageTree(48, false);
  try {
    const { stdout } = await run('node', [CLI, 'recover', '--pid', String(w.pid), '--to', lab.target, '--json'], { env: process.env });
    const r = JSON.parse(stdout);
    t.is(r.runs_on, 'source');
    t.true(r.actions.some((x: string) => /resumed the stopped process tree/.test(x)), r.actions.join('; '));
    const before = (await ticks(a, w.out)).length;
    await sleep(500);
    const after = await ticks(a, w.out);
    t.true(after.length > before && continuous(after), 'it counts on, without gap or repeat');
    t.is((await b.exec(['test', '-e', record], { allowFailure: true })).exitCode, 1, 'the record is removed');
  } finally {
    for (const p of await memloadCopies(a, 48)) await a.exec(['kill', '-KILL', p], { allowFailure: true });
    await a.exec(['rm', '-rf', ...dirs]);
  }
});
