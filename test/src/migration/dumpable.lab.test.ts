/**
 * What CRIU meets inside the workload, refused or handled before anything is frozen: processes
 * of another user where root lacks CAP_SYS_RESOURCE, and TCP connections (--tcp) of a plain
 * process tree (CRIU's own flags; containers pass them through runc.conf: redis.lab.test.ts).
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { migrateDockerContainer } from '../../../src/migration/docker.js';
import { migrateProcessTree } from '../../../src/migration/tree.js';
import { isMigrateError } from '../../../transports/errors.js';
import { CAP_SYS_RESOURCE, hasCapability } from '../../../src/process/credentials.js';
import { probeTree } from '../../../src/process/probe.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { exists, removeEverywhere, running } from '../../helpers/containers.js';
import { SHARED_DIR, startTree, tempDir } from '../../helpers/workload.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

test.serial('a container running as another user: refused before the freeze where root lacks CAP_SYS_RESOURCE, migrated where it has it', async (t) => {
  const name = `nobody-${process.pid}`;
  await a.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined', '--user', '65534:65534',
    process.env.MIGRATE_LAB_REDIS_IMAGE ?? 'migrate-redis:latest']);
  try {
    const rootCanRead = hasCapability((await probeTree(a, [])).caller.capEff, CAP_SYS_RESOURCE);
    if (rootCanRead) {
      const report = await migrateDockerContainer({ container: name, source: a, target: b });
      t.is(report.outcome, 'migrated', JSON.stringify(report.error));
      return;
    }
    const e = await t.throwsAsync(migrateDockerContainer({ container: name, source: a, target: b }));
    t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
    t.regex(e!.message, /container nobody-\d+ has processes running as another user \(PID \d+ uid 65534 gid 65534\), and root on this host lacks CAP_SYS_RESOURCE/);
    t.regex(e!.message, /→ run migrate's commands there as a root that has CAP_SYS_RESOURCE/);
    t.is(await running(a, name), 'true', 'never frozen');
    t.false(await exists(b, name));
  } finally {
    await removeEverywhere(name, a, b);
  }
});

/** A tree holding both ends of a TCP connection on 127.0.0.1 (busybox nc), in its own PID namespace. */
const CONNECTED = 'p=$((20000 + $$ % 20000)); sleep 100000 | busybox nc -l -p $p > /dev/null & sleep 0.3; ' +
  '(while :; do echo x; sleep 0.1; done) | busybox nc 127.0.0.1 $p & sleep 0.3; echo start; while :; do sleep 1; done';

test.serial('a process tree with a TCP connection: refused by default, naming it; --tcp close moves the tree and drops the connection', async (t) => {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, '/bin/sh', ['-c', CONNECTED], dir);
  let restored: number | undefined;
  try {
    const e = await t.throwsAsync(migrateProcessTree({ pid: w.pid, source: a, target: b }));
    t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
    t.regex(e!.message, /process tree \d+ has 2 open TCP connections: 127\.0\.0\.1:\d+ ↔ 127\.0\.0\.1:\d+ \(established\), 127\.0\.0\.1:\d+ ↔ 127\.0\.0\.1:\d+ \(established\)/);
    const report = await migrateProcessTree({ pid: w.pid, source: a, target: b, tcp: 'close', strategy: 'cold' });
    t.is(report.outcome, 'migrated', JSON.stringify(report.error));
    restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
    t.deepEqual(report.tcp, { policy: 'close', established: 2, closed: 2 });
    await sleep(300);
    const left = (await probeTree(b, (await b.exec(['sh', '-c', 'cat /proc/$1/task/*/children; echo $1', 'kids', String(restored)])).stdout.split(/\s+/).filter(Boolean).map(Number))).sockets;
    t.deepEqual(left.filter((s) => s.state === 'established'), [], 'no connection survived on the target');
  } finally {
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    if (restored) await b.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
  }
});

test.serial('--tcp keep, a process tree whose move fails after the dump: back on A, its loopback connection goes on, byte stream intact', async (t) => {
  const dir = await tempDir(a, SHARED_DIR);
  // A counter written into a connection to a listener of the same tree, which logs what arrives.
  const counting = `p=$((20000 + $$ % 20000)); sleep 100000 | busybox nc -l -p $p > ${dir}/recv & sleep 0.3; ` +
    '(n=0; while :; do n=$((n+1)); echo $n; sleep 0.02; done) | busybox nc 127.0.0.1 $p & sleep 0.3; echo start; while :; do sleep 1; done';
  const w = await startTree(a, '/bin/sh', ['-c', counting], dir);
  const received = async () => (await a.exec(['cat', `${dir}/recv`])).stdout.split('\n').filter(Boolean).map(Number);
  try {
    await sleep(300);
    const report = await migrateProcessTree({
      pid: w.pid, source: a, target: b, tcp: 'keep', strategy: 'cold', faults: { beforeRestore: async () => { throw new Error('injected before the restore'); } },
    });
    t.is(report.outcome, 'rolled-back');
    t.is(report.runs_on, 'source');
    t.is(report.tcp.established, 2);
    const back = (await received()).length;
    await sleep(1500);
    const nums = await received();
    t.true(nums.length > back + 20, `numbers received on A after the rollback: ${nums.length - back}`);
    t.deepEqual(nums, nums.map((_, i) => i + 1), '1, 2, 3, … with no gap or repeat');
    const rules = (await a.exec(['sh', '-c', 'iptables -S INPUT; iptables -S OUTPUT'])).stdout;
    t.notRegex(rules, /0xc114/, 'no lock of CRIU\'s left in the host\'s firewall');
  } finally {
    await a.exec(['sh', '-c', 'kill -KILL $(pgrep -P $1) $1', 'kill', String(w.pid)], { allowFailure: true });
    await a.exec(['rm', '-rf', dir]);
  }
});
