/**
 * Pre-copy. On the lab's own kernel, which has no soft-dirty tracking, it is refused before
 * anything is frozen, with the reason and the strategies that work. It runs end to end in the
 * soft-dirty guest (lab/guest: a QEMU machine playing hosts A and B, driven over SSH), for a
 * process tree and for a Docker container (with a dockerd on each guest host: lab/guest/docker.sh).
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { migrateProcessTree } from '../../../src/migration/tree.js';
import { migrateDockerContainer } from '../../../src/migration/docker.js';
import { isMigrateError } from '../../../transports/errors.js';
import { readFileVia } from '../../../transports/files.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { ensureGuest, ensureGuestDocker, guestSshOpts } from '../../helpers/guest.js';
import { askChecksum, exists, logs, removeEverywhere, running, startContainer, tickNums } from '../../helpers/containers.js';
import { continuous, SHARED_DIR, startTree, tempDir, ticks } from '../../helpers/workload.js';
import { containerId } from '../../helpers/containers.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

test.serial('pre-copy is refused on a kernel without soft-dirty tracking, before anything is frozen', async (t) => {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', '8', '--tick-ms', '20'], dir);
  try {
    const e = await t.throwsAsync(migrateProcessTree({ pid: w.pid, source: a, target: b, strategy: 'precopy' }));
    t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
    t.regex(String(e), /soft-dirty.*CONFIG_MEM_SOFT_DIRTY/);
    t.regex(isMigrateError(e) ? e.hint ?? '' : '', /--strategy cold or --strategy postcopy/);
    const before = (await ticks(a, w.out)).length;
    await sleep(200);
    t.true((await ticks(a, w.out)).length > before, 'it never stopped');
  } finally {
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await a.exec(['rm', '-rf', dir]);
  }
});

test.serial('pre-copy and hybrid of a Docker container are refused here too (no soft-dirty), before anything is frozen', async (t) => {
  const name = await startContainer(a, 8, 50);
  try {
    for (const strategy of ['precopy', 'hybrid'] as const) {
      const e = await t.throwsAsync(migrateDockerContainer({ container: name, source: a, target: b, strategy }));
      t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
      t.regex(String(e), /CONFIG_MEM_SOFT_DIRTY/);
    }
    t.is(await running(a, name), 'true');
    t.false(await exists(b, name), 'nothing was created on B');
    const before = tickNums(await logs(a, name)).length;
    await sleep(300);
    t.true(tickNums(await logs(a, name)).length > before, 'it never stopped');
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('pre-copy in the soft-dirty guest: a process tree moves A → B after 2 pre-dump rounds; the final dump writes fewer pages than round 0; the counter goes on', async (t) => {
  const g = ensureGuest();
  const ga = new SshTransport(g.a, guestSshOpts(g));
  const gb = new SshTransport(g.b, guestSshOpts(g));
  t.teardown(() => Promise.all([ga.close(), gb.close()]));
  // /var/tmp is shared by the guest's two hosts (as shared storage would be); /var/lib/migrate is not.
  const dir = await tempDir(ga, '/var/tmp/migrate-precopy');
  // Small and slow to dirty: the guest's link (QEMU user networking under TCG) carries only 2-5 MB/s.
  const w = await startTree(ga, '/usr/local/bin/memload', ['--mib', '16', '--dirty', '0.1', '--tick-ms', '20'], dir);
  const output = async () => (await readFileVia(ga, w.out)).toString('utf8');
  let restored = 0;
  try {
    await sleep(500);
    await askChecksum(() => ga.exec(['kill', '-USR1', String(w.pid)]), output);
    const report = await migrateProcessTree({
      pid: w.pid, source: ga, target: gb, strategy: 'precopy',
      precopy: { downtimeTargetMs: 0, fewPages: 0, maxRounds: 2 }, // exactly two rounds, whatever the guest's speed
    });
    t.is(report.outcome, 'migrated', JSON.stringify(report.error));
    t.is(report.strategy, 'precopy');
    const rounds = report.precopy!.rounds;
    t.is(rounds.length, 2);
    t.is(report.precopy!.stop.reason, 'round-cap');
    t.true(rounds[0]!.pages_written >= 16 * 256, 'round 0 wrote all memory');
    t.true(rounds[1]!.pages_written < rounds[0]!.pages_written / 2, 'round 1 only what was dirtied since');
    t.true(report.criu.dump!.pagesWritten < rounds[0]!.pages_written, `final dump wrote ${report.criu.dump!.pagesWritten} pages`);
    t.true(report.criu.dump!.pagesSkippedParent > 0, 'the final dump built on the last round');
    restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
    await sleep(500);
    const after = await ticks(ga, w.out);
    t.true(continuous(after), 'counter continues without gap or repeat');
    await askChecksum(() => gb.exec(['kill', '-USR1', String(restored)]), output); // every page verifies (bad=0)
    t.log(`rounds ${JSON.stringify(rounds)}; final dump ${report.criu.dump!.pagesWritten} pages; freeze ${report.freeze_ms} ms ${JSON.stringify(report.phases_ms)}`);
  } finally {
    if (restored) await gb.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
    await ga.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await ga.exec(['rm', '-rf', dir]);
  }
});

test.serial('hybrid in the soft-dirty guest: pre-copy rounds, then a freeze without memory; the rest arrives by post-copy; counter and memory intact', async (t) => {
  const g = ensureGuest();
  const ga = new SshTransport(g.a, guestSshOpts(g));
  const gb = new SshTransport(g.b, guestSshOpts(g));
  t.teardown(() => Promise.all([ga.close(), gb.close()]));
  const dir = await tempDir(ga, '/var/tmp/migrate-precopy');
  const w = await startTree(ga, '/usr/local/bin/memload', ['--mib', '16', '--dirty', '0.1', '--tick-ms', '20'], dir);
  const output = async () => (await readFileVia(ga, w.out)).toString('utf8');
  let restored = 0;
  try {
    await sleep(500);
    const report = await migrateProcessTree({ pid: w.pid, source: ga, target: gb, strategy: 'hybrid', prefetch: 'auto', precopy: { downtimeTargetMs: 0, fewPages: 0, maxRounds: 2 } });
    t.is(report.outcome, 'migrated', JSON.stringify(report.error));
    t.is(report.strategy, 'hybrid');
    // The guest has no node: the window goes on without the prefetcher, and the report says why.
    t.deepEqual(report.prefetch, { used: false, reason: `no node on ${gb.name}` });
    t.is(report.precopy!.rounds.length, 2);
    t.true(report.postcopy_ms! >= 0, 'a post-copy window followed');
    const lp = report.lazy_pages!;
    t.true(lp.total > 0 && lp.total < report.precopy!.rounds[0]!.pages_written, `post-copy carried only what the rounds did not: ${JSON.stringify(lp)}`);
    const roundBytes = report.precopy!.rounds.reduce((sum, r) => sum + r.bytes, 0);
    t.true(report.bytes.raw > roundBytes, `bytes ${report.bytes.raw} count the rounds' ${roundBytes} too`);
    restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
    await sleep(500);
    t.true(continuous(await ticks(ga, w.out)), 'counter continues without gap or repeat');
    await askChecksum(() => gb.exec(['kill', '-USR1', String(restored)]), output);
    t.log(`rounds ${JSON.stringify(report.precopy!.rounds.map((r) => r.pages_written))}; lazy ${JSON.stringify(lp)}; freeze ${report.freeze_ms} ms ${JSON.stringify(report.phases_ms)}`);
  } finally {
    if (restored) await gb.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
    await ga.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await ga.exec(['rm', '-rf', dir]);
  }
});

test.serial('auto in the soft-dirty guest: pre-copy rounds that do not converge (16 MiB rewritten at 50 MiB/s) are finished by post-copy (hybrid); counter and memory intact', async (t) => {
  const g = ensureGuest();
  const ga = new SshTransport(g.a, guestSshOpts(g));
  const gb = new SshTransport(g.b, guestSshOpts(g));
  t.teardown(() => Promise.all([ga.close(), gb.close()]));
  const dir = await tempDir(ga, '/var/tmp/migrate-precopy');
  const w = await startTree(ga, '/usr/local/bin/memload', ['--mib', '16', '--dirty', '50', '--tick-ms', '20'], dir);
  const output = async () => (await readFileVia(ga, w.out)).toString('utf8');
  let restored = 0;
  try {
    await sleep(500);
    // 16 MiB counts as big here, so auto weighs pre-copy as it would for 256 MiB and more.
    const report = await migrateProcessTree({ pid: w.pid, source: ga, target: gb, autoMemoryMin: 2 ** 20 });
    t.is(report.outcome, 'migrated', JSON.stringify(report.error));
    t.is(report.strategy, 'hybrid');
    t.regex(report.strategy_reason ?? '', /^auto: .*tracks dirty pages.*The rounds did not converge \(round 1 wrote \d+ pages after \d+.*post-copy finished it/);
    t.is(report.precopy!.stop.reason, 'not-shrinking');
    t.true(report.lazy_pages!.total > 0, 'the memory the rounds could not keep up with came by post-copy');
    t.is(report.criu.dump, null, 'no final dump');
    restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
    await sleep(500);
    t.true(continuous(await ticks(ga, w.out)), 'counter continues without gap or repeat');
    await askChecksum(() => gb.exec(['kill', '-USR1', String(restored)]), output);
    t.log(`rounds ${JSON.stringify(report.precopy!.rounds.map((r) => r.pages_written))}; lazy ${JSON.stringify(report.lazy_pages)}; freeze ${report.freeze_ms} ms; ${report.strategy_reason}`);
  } finally {
    if (restored) await gb.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
    await ga.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await ga.exec(['rm', '-rf', dir]);
  }
});

for (const strategy of ['precopy', 'hybrid'] as const) {
  const how = strategy === 'precopy' ? 'docker checkpoint builds on them' : 'a lazy docker checkpoint builds on them, the rest follows by post-copy';
  test.serial(`Docker ${strategy} in the soft-dirty guest: runc pre-dumps Docker's container twice, ${how}; dockerd on B runs it; counter and memory intact`, async (t) => {
    const g = ensureGuestDocker();
    const ga = new SshTransport(g.a, guestSshOpts(g));
    const gb = new SshTransport(g.b, guestSshOpts(g));
    t.teardown(() => Promise.all([ga.close(), gb.close()]));
    const name = `mig-${strategy}-${process.pid}`;
    // --network host: the guest has no iptables for CRIU to lock a network namespace with.
    await ga.exec(['docker', 'run', '-d', '--name', name, '--network', 'host', '--security-opt', 'seccomp=unconfined',
      'migrate-workload:latest', '--mib', '16', '--dirty', '0.1', '--tick-ms', '20']);
    try {
      for (let i = 0; i < 100 && !/^tick /m.test(await logs(ga, name)); i++) await sleep(100);
      const id = await containerId(ga, name);
      await askChecksum(() => ga.exec(['docker', 'kill', '-s', 'USR1', name]), () => logs(ga, name));
      const report = await migrateDockerContainer({
        container: name, source: ga, target: gb, strategy,
        precopy: { downtimeTargetMs: 0, fewPages: 0, maxRounds: 2 },
      });
      t.is(report.outcome, 'migrated', JSON.stringify(report.error));
      t.is(report.strategy, strategy);
      const rounds = report.precopy!.rounds;
      t.is(rounds.length, 2);
      t.true(rounds[0]!.pages_written >= 16 * 256, 'round 0 wrote all memory');
      t.true(rounds[1]!.pages_written < rounds[0]!.pages_written / 2, 'round 1 only what was dirtied since');
      if (strategy === 'precopy') {
        t.true(report.criu.dump!.pagesWritten < rounds[0]!.pages_written, `final dump wrote ${report.criu.dump!.pagesWritten} pages`);
        t.true(report.criu.dump!.pagesSkippedParent > 0, 'docker checkpoint built on the last round');
      } else {
        const lp = report.lazy_pages!;
        t.true(lp.total > 0 && lp.total < rounds[0]!.pages_written, `post-copy carried only what the rounds did not: ${JSON.stringify(lp)}`);
      }
      t.false(await exists(ga, id), 'the source container is gone');
      t.is(await running(gb, name), 'true', "B's dockerd runs it");
      await sleep(500);
      const onB = tickNums(await logs(gb, name));
      t.true(onB.length > 3 && continuous(onB), 'counter continues without gap or repeat');
      // It dirties memory, so the sum changes; every page still verifies (bad=0) or this throws.
      await askChecksum(() => gb.exec(['docker', 'kill', '-s', 'USR1', name]), () => logs(gb, name));
      t.log(`rounds ${JSON.stringify(rounds.map((r) => r.pages_written))}; final dump ${report.criu.dump?.pagesWritten} pages; lazy ${JSON.stringify(report.lazy_pages)}; freeze ${report.freeze_ms} ms ${JSON.stringify(report.phases_ms)}`);
    } finally {
      for (const h of [ga, gb]) await h.exec(['docker', 'rm', '-f', '-v', name], { allowFailure: true });
    }
  });
}
