/**
 * Faults after the freeze, with the real parts: the SSH connection to the target dies, the
 * target's disk fills up. Each time the workload must end up running exactly once (here: on the
 * source, with its counter and memory intact) and the target must hold nothing of it.
 */
import test, { type ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { migrateDockerContainer } from '../../../src/migration/docker.js';
import type { MigrationReport } from '../../../src/migration/report.js';
import { isMigrateError } from '../../../transports/errors.js';
import { cutSshToB, ensureLab, sshOpts } from '../../helpers/lab.js';
import { continuous } from '../../helpers/workload.js';
import { checksum, exists, logs, removeEverywhere, running, startContainer, tickNums } from '../../helpers/containers.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());


/** Runs `fn` with a small filesystem of `size` (tmpfs) at a fresh path that only host B sees mounted. */
async function withSmallFsOnB(size: string, fn: (root: string) => Promise<void>): Promise<void> {
  const root = `/var/lib/migrate-small-${process.pid}-${size}`;
  const inB = ['nsenter', '--mount=/run/migrate-lab/ns/mnt-b'];
  await a.exec(['mkdir', '-p', '-m', '0700', root]);
  await a.exec([...inB, 'mount', '-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'migrate-small', root]);
  try {
    await fn(root);
  } finally {
    await a.exec([...inB, 'umount', root], { allowFailure: true });
    await a.exec(['rm', '-rf', root], { allowFailure: true });
  }
}

async function assertRunsOnceOnSource(t: ExecutionContext, report: MigrationReport, name: string, sumBefore: string): Promise<void> {
  t.is(report.outcome, 'rolled-back');
  t.is(report.runs_on, 'source');
  t.truthy(report.error);
  t.is(await running(a, name), 'true');
  t.false(await exists(b, name), 'no half-made twin on B');
  await sleep(300);
  t.true(continuous(tickNums(await logs(a, name))), 'the counter goes on without gap or repeat');
  t.is(await checksum(a, name), sumBefore);
}

test.serial('the SSH link to the target dies while pages stream to its page server', async (t) => {
  const name = await startContainer(a, 256);
  try {
    const sumBefore = await checksum(a, name);
    let cut = false;
    const report = await migrateDockerContainer({
      container: name, source: a, target: b, strategy: 'cold',
      onEvent: (e) => {
        if (e.kind === 'step' && e.step === 'checkpoint') setTimeout(() => void cutSshToB().then(() => (cut = true)), 400);
      },
    });
    t.true(cut);
    t.is(report.phases_ms.restore, 0, 'the cut came before the restore');
    await assertRunsOnceOnSource(t, report, name, sumBefore);
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('the SSH link to the target dies while streamed images are in flight', async (t) => {
  const name = await startContainer(a, 64);
  try {
    const sumBefore = await checksum(a, name);
    let cut: Promise<unknown> | undefined;
    const report = await migrateDockerContainer({
      container: name, source: a, target: b, pages: 'stream',
      faults: { tamper: (chunk, offset) => { if (offset > 8 << 20) cut ??= cutSshToB(); return chunk; } },
    });
    t.truthy(cut);
    t.regex(String(report.error?.code), /TRANSFER_FAILED|SSH_CHANNEL/);
    await assertRunsOnceOnSource(t, report, name, sumBefore);
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('the lazy-pages daemon dies while memory fills in on the target: back on the source', async (t) => {
  const name = await startContainer(a, 768); // big enough that filling takes a while
  try {
    const sumBefore = await checksum(a, name);
    const report = await migrateDockerContainer({
      container: name, source: a, target: b, strategy: 'cold', restore: 'lazy',
      faults: { duringFill: async () => { await b.exec(['pkill', '-KILL', '-f', '^criu lazy-pages'], { allowFailure: true }); } },
    });
    await assertRunsOnceOnSource(t, report, name, sumBefore);
    t.regex(String(report.error?.message), /lazy-pages/);
    t.true(report.phases_ms.restore > 0, 'it had resumed on the target before');
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('the target disk fills up during the migration', async (t) => {
  // B's images go to a small filesystem; preflight sees enough room, then something takes it.
  await withSmallFsOnB('160m', async (root) => {
    const name = await startContainer(a, 64);
    try {
      const sumBefore = await checksum(a, name);
      const report = await migrateDockerContainer({
        container: name, source: a, target: b, workRoot: root,
        faults: { afterFreeze: async () => { await b.exec(['sh', '-c', 'fallocate -l $(( $(df -Pk "$1" | awk "NR==2 {print \\$4}") - 8192 ))k "$1/filler"', 'fill', root]); } },
      });
      await assertRunsOnceOnSource(t, report, name, sumBefore);
      // Decided by the filesystem, not by what CRIU managed to log on it (its log is cut mid-line).
      t.is(report.error?.code, 'NO_SPACE');
      t.regex(String(report.error?.message), /No space left on device under .* \(\d+ KiB free\) on root@/);
      t.log(String(report.error?.message));
    } finally {
      await removeEverywhere(name, a, b);
    }
  });
});

test.serial('a target without room for the checkpoint is refused before the freeze', async (t) => {
  await withSmallFsOnB('32m', async (root) => {
    const name = await startContainer(a, 64);
    try {
      const e = await t.throwsAsync(migrateDockerContainer({ container: name, source: a, target: b, workRoot: root }));
      t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
      t.regex(e!.message, /not enough free space under .* on the target: \d+ MiB free, about \d+ MiB needed/);
      t.is(await running(a, name), 'true', 'never frozen');
      t.false(await exists(b, name));
    } finally {
      await removeEverywhere(name, a, b);
    }
  });
});
