/** Cold migration of a Docker container between the lab's hosts, with faults. */
import test, { type ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { migrateDockerContainer } from '../../../src/migration/docker.js';
import type { MigrationReport } from '../../../src/migration/report.js';
import { isMigrateError } from '../../../transports/errors.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { assertFreezeAsWorkloadSaw, continuous, tickTimes } from '../../helpers/workload.js';
import { checksum, containerId, exists, imageDirsOf, logs, newRestoreCopies, removeEverywhere, restoreCopies, running, startContainer, tickNums } from '../../helpers/containers.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

/** After a failure past the freeze: the workload runs on A again and B holds no twin. */
async function assertBackOnSource(t: ExecutionContext, report: MigrationReport, name: string): Promise<void> {
  t.is(report.outcome, 'rolled-back');
  t.is(report.runs_on, 'source');
  t.is(await running(a, name), 'true');
  t.false(await exists(b, name), 'no half-made twin on B');
}

const remove = (name: string) => removeEverywhere(name, a, b);

test.serial('a container migrates A → B: the counter goes on with the next number, memory intact', async (t) => {
  const name = await startContainer(a);
  const id = await containerId(a, name);
  try {
    const sumBefore = await checksum(a, name);
    const copies = await restoreCopies(b);
    const report = await migrateDockerContainer({ container: name, source: a, target: b });
    t.is(report.outcome, 'migrated');
    t.deepEqual(await newRestoreCopies(b, copies), [], 'containerd\'s copy of the checkpoint is removed on B');
    t.is(report.runs_on, 'target');
    t.is(report.restore, 'lazy', 'the lab has userfaultfd: lazy restore by default');
    t.is(report.strategy, 'cold');
    t.regex(report.strategy_reason ?? '', /^auto: \d+ MiB resident \(< 256 MiB\)/);
    t.true(report.phases_ms.fill! >= 0);
    const p = report.phases_ms;
    t.true(report.freeze_ms! > 0 && report.freeze_ms! <= p.checkpoint + p.transfer + p.restore);
    t.true(report.bytes.raw > 32 * 2 ** 20 && report.bytes.wire > 0);
    t.true(report.criu.dump!.pagesWritten >= 32 * 256);
    t.true(report.criu.restore!.restoreTimeUs > 0);
    const lastOnA = Math.max(...tickNums(await logs(a, name).catch(() => '')), 0);
    t.is(lastOnA, 0, 'the source container is gone');
    await sleep(500);
    const onB = tickNums(await logs(b, name));
    t.true(onB.length > 3);
    t.true(continuous(onB));
    t.is(await checksum(b, name), sumBefore);
    t.is(await running(b, name), 'true');
    for (const h of [a, b]) t.is(await imageDirsOf(h, id), 0, `image dirs removed on ${h.name}`);
    t.log(`freeze ${report.freeze_ms} ms: ${JSON.stringify(report.phases_ms)}`);
  } finally {
    await remove(name);
  }
});

test.serial('--keep-source: the first tick on B follows the last tick on A; the freeze is never shorter than the workload saw', async (t) => {
  const name = await startContainer(a, 32, 1);
  try {
    const report = await migrateDockerContainer({ container: name, source: a, target: b, keepSource: true, restore: 'eager' });
    t.is(report.outcome, 'migrated');
    const logA = await logs(a, name);
    const onA = tickNums(logA);
    await sleep(300);
    const logB = await logs(b, name);
    const onB = tickNums(logB);
    t.true(continuous(onA) && continuous(onB));
    t.is(onB[0], onA[onA.length - 1]! + 1, 'no gap, no repeat across hosts');
    t.is(await running(a, name), 'false');
    assertFreezeAsWorkloadSaw(t, report, [...tickTimes(logA), ...tickTimes(logB)], 1, 'command');
  } finally {
    await remove(name);
  }
});

test.serial('a container migrates B → A, driven from A (remote source): counter and memory intact', async (t) => {
  const name = await startContainer(b);
  const id = await containerId(b, name);
  try {
    const sumBefore = await checksum(b, name);
    const report = await migrateDockerContainer({ container: name, source: b, target: a });
    t.is(report.outcome, 'migrated');
    t.is(report.runs_on, 'target');
    t.false(await exists(b, name), 'the source container is gone');
    await sleep(500);
    const onA = tickNums(await logs(a, name));
    t.true(onA.length > 3 && continuous(onA));
    t.is(await checksum(a, name), sumBefore);
    for (const h of [a, b]) t.is(await imageDirsOf(h, id), 0, `image dirs removed on ${h.name}`);
    t.log(`freeze ${report.freeze_ms} ms: ${JSON.stringify(report.phases_ms)}`);
  } finally {
    await remove(name);
  }
});

test.serial('a corrupted byte in the stream is caught; the workload runs on the source again, once', async (t) => {
  const name = await startContainer(a);
  try {
    const sumBefore = await checksum(a, name);
    let flipped = false;
    const report = await migrateDockerContainer({
      container: name, source: a, target: b,
      faults: {
        // Pages went to the page server: the stream holds the other images. Flip a byte inside
        // a zstd block: either zstd or the stream digests must catch it.
        tamper: (chunk) => {
          if (flipped || chunk.length < 1024) return chunk;
          flipped = true;
          const c = Buffer.from(chunk);
          c[c.length >> 1]! ^= 0x40;
          return c;
        },
      },
    });
    t.true(flipped);
    await assertBackOnSource(t, report, name);
    t.regex(String(report.error?.code), /TRANSFER_FAILED/);
    await sleep(300);
    t.true(continuous(tickNums(await logs(a, name))), 'counter continues on the source');
    t.is(await checksum(a, name), sumBefore);
  } finally {
    await remove(name);
  }
});

test.serial('a restore that fails on the target rolls back to the source', async (t) => {
  const name = await startContainer(a);
  try {
    const copies = await restoreCopies(b);
    const report = await migrateDockerContainer({
      container: name, source: a, target: b,
      faults: { beforeRestore: async () => { await b.exec(['sh', '-c', 'rm -f /var/lib/migrate/*/images/pages-*.img']); } },
    });
    await assertBackOnSource(t, report, name);
    t.deepEqual(await newRestoreCopies(b, copies), [], 'containerd\'s copy of the checkpoint is removed on B after the failed restore too');
  } finally {
    await remove(name);
  }
});

test.serial('bad input is refused before anything is frozen', async (t) => {
  const e1 = await t.throwsAsync(migrateDockerContainer({ container: 'no-such-container-xyz', source: a, target: b }));
  t.true(isMigrateError(e1, 'PREFLIGHT'));
  t.regex(e1!.message, /no container "no-such-container-xyz"/);

  const name = await startContainer(a);
  try {
    await a.exec(['docker', 'tag', lab.image, `migrate-only-on-a:${process.pid}`]);
    await a.exec(['docker', 'rm', '-f', name]);
    await a.exec(['docker', 'run', '-d', '--name', name, '--security-opt', 'seccomp=unconfined', `migrate-only-on-a:${process.pid}`, '--mib', '1']);
    const e2 = await t.throwsAsync(migrateDockerContainer({ container: name, source: a, target: b }));
    t.true(isMigrateError(e2, 'PREFLIGHT'));
    t.regex(e2!.message, /image migrate-only-on-a:\d+ is not on the target/);
    t.regex(e2!.message, /--transfer-image/);
    t.is(await running(a, name), 'true', 'still running, never frozen');

    const e3 = await t.throwsAsync(migrateDockerContainer({ container: name, source: a, target: new SshTransport('ssh://root@10.231.0.2', { identityFiles: [lab.sshKey], knownHostsFiles: ['/dev/null'] }) }));
    t.true(isMigrateError(e3, 'SSH_HOST_KEY_UNKNOWN'));
  } finally {
    await remove(name);
    await a.exec(['docker', 'rmi', `migrate-only-on-a:${process.pid}`], { allowFailure: true });
  }
});

test.serial('--transfer-image sends an image the target lacks, then migrates', async (t) => {
  const image = `migrate-only-on-a:${process.pid}-t`;
  await a.exec(['docker', 'tag', lab.image, image]);
  await b.exec(['docker', 'rmi', image], { allowFailure: true });
  const name = `mig-${process.pid}-image`;
  try {
    await a.exec(['docker', 'run', '-d', '--name', name, '--security-opt', 'seccomp=unconfined', image, '--mib', '8', '--tick-ms', '50']);
    await sleep(500);
    const report = await migrateDockerContainer({ container: name, source: a, target: b, transferImage: true });
    t.is(report.outcome, 'migrated');
    t.true(report.bytes.image! > 100_000, `image bytes ${report.bytes.image}`);
    t.true(report.phases_ms.image! > 0);
    t.is(await running(b, name), 'true');
    t.is((await b.exec(['docker', 'image', 'inspect', '--format', '{{.Id}}', image])).stdout, (await a.exec(['docker', 'image', 'inspect', '--format', '{{.Id}}', image])).stdout);
  } finally {
    await remove(name);
    await a.exec(['docker', 'rmi', image], { allowFailure: true });
    await b.exec(['docker', 'rmi', image], { allowFailure: true });
  }
});

test.serial('a second migration of the same container is refused while one is in flight', async (t) => {
  const name = await startContainer(a, 8);
  try {
    const first = migrateDockerContainer({ container: name, source: a, target: b, faults: { beforeRestore: () => sleep(1500) } });
    await sleep(1200);
    const e = await t.throwsAsync(migrateDockerContainer({ container: name, source: a, target: b, name: `${name}-2` }));
    t.true(isMigrateError(e, 'LOCKED') || isMigrateError(e, 'PREFLIGHT'), String(e));
    t.is((await first).outcome, 'migrated');
  } finally {
    await remove(name);
  }
});

test.serial('an abort (Ctrl-C) mid-transfer of streamed pages rolls back to the source', async (t) => {
  const name = await startContainer(a);
  try {
    const ac = new AbortController();
    const report = await migrateDockerContainer({
      container: name, source: a, target: b, signal: ac.signal, pages: 'stream',
      faults: { tamper: (chunk, offset) => { if (offset > 1 << 20) ac.abort(); return chunk; } },
    });
    t.true(ac.signal.aborted);
    await assertBackOnSource(t, report, name);
  } finally {
    await remove(name);
  }
});
