/**
 * Containers runc runs by itself, migrated between the soft-dirty guest's hosts A and B: cold,
 * post-copy (runc.conf's lazy-pages), and pre-copy through runc's own pre-dump (`runc checkpoint
 * --pre-dump --parent-path`, the path Docker's pre-copy takes too). Bad input is refused before
 * anything is frozen.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { readFileVia } from '../../../transports/files.js';
import { isMigrateError } from '../../../transports/errors.js';
import { migrateRuncContainer } from '../../../src/migration/runc.js';
import { ensureGuest, guestSshOpts } from '../../helpers/guest.js';
import { askChecksum } from '../../helpers/containers.js';
import { runcPid, startRuncContainer } from '../../helpers/runc.js';
import { assertFreezeAsWorkloadSaw, continuous, ticks, tickTimes } from '../../helpers/workload.js';

const g = ensureGuest();
const a = new SshTransport(g.a, guestSshOpts(g));
const b = new SshTransport(g.b, guestSshOpts(g));
test.after.always(() => Promise.all([a.close(), b.close()]));

const MEMLOAD = ['--mib', '16', '--dirty', '0.1', '--tick-ms', '20'];

test.serial('bad input for a runc container is refused before anything is frozen: unknown ID, bundle missing on the target', async (t) => {
  const e1 = await t.throwsAsync(migrateRuncContainer({ id: 'no-such-container', source: a, target: b }));
  t.true(isMigrateError(e1, 'PREFLIGHT'), String(e1));
  t.regex(String(e1), /runc knows no container no-such-container under \/run\/runc/);
  // /root is private to each of the guest's hosts: a bundle there is missing on B.
  const c = await startRuncContainer(a, b, MEMLOAD, '/root/migrate-runc');
  try {
    const e2 = await t.throwsAsync(migrateRuncContainer({ id: c.id, source: a, target: b }));
    t.true(isMigrateError(e2, 'PREFLIGHT'), String(e2));
    t.regex(String(e2), /bundle .* is missing on the target/);
    t.regex(isMigrateError(e2) ? e2.hint ?? '' : '', /shared storage/);
    const before = (await ticks(a, c.out)).length;
    await sleep(300);
    t.true((await ticks(a, c.out)).length > before, 'it never stopped');
    t.is(await runcPid(b, c.id), 0, 'nothing on B');
  } finally {
    await c.remove();
  }
});

test.serial('a runc container moves A → B (auto: cold at 16 MiB, lazy restore); runc on B runs it; counter and memory intact', async (t) => {
  const c = await startRuncContainer(a, b, MEMLOAD);
  const output = async () => (await readFileVia(a, c.out)).toString('utf8');
  try {
    await askChecksum(() => a.exec(['kill', '-USR1', String(c.pid)]), output);
    const report = await migrateRuncContainer({ id: c.id, source: a, target: b });
    t.is(report.outcome, 'migrated', JSON.stringify(report.error));
    t.is(report.workload.kind, 'runc');
    t.is(report.strategy, 'cold');
    t.is(report.restore, 'lazy', 'the guest has userfaultfd: runc restore --lazy-pages');
    t.is(await runcPid(a, c.id), 0, 'the source container is gone');
    const pid = await runcPid(b, c.id);
    t.true(pid > 0, 'runc on B knows it');
    await sleep(500);
    t.true(continuous(await ticks(a, c.out)), 'counter continues without gap or repeat');
    await askChecksum(() => b.exec(['kill', '-USR1', String(pid)]), output);
    // The guest's clock is not the controller's: the report maps CRIU's freeze through the measured offset.
    assertFreezeAsWorkloadSaw(t, report, tickTimes(await output()), 20);
    t.log(`freeze ${report.freeze_ms} ms ${JSON.stringify(report.phases_ms)}`);
  } finally {
    await c.remove();
  }
});

test.serial('pre-copy of a runc container in the soft-dirty guest: 2 runc pre-dump rounds, a final dump with fewer pages than round 0, restored from the chain on B', async (t) => {
  const c = await startRuncContainer(a, b, MEMLOAD);
  const output = async () => (await readFileVia(a, c.out)).toString('utf8');
  try {
    await sleep(300);
    const report = await migrateRuncContainer({
      id: c.id, source: a, target: b, strategy: 'precopy',
      precopy: { downtimeTargetMs: 0, fewPages: 0, maxRounds: 2 }, // exactly two rounds, whatever the guest's speed
    });
    t.is(report.outcome, 'migrated', JSON.stringify(report.error));
    t.is(report.strategy, 'precopy');
    const rounds = report.precopy!.rounds;
    t.is(rounds.length, 2);
    t.true(rounds[0]!.pages_written >= 16 * 256, 'round 0 wrote all memory');
    t.true(rounds[1]!.pages_written < rounds[0]!.pages_written / 2, 'round 1 only what was dirtied since');
    t.true(report.criu.dump!.pagesWritten < rounds[0]!.pages_written, `final dump wrote ${report.criu.dump!.pagesWritten} pages`);
    t.true(report.criu.dump!.pagesSkippedParent > 0, 'the final dump built on the last round');
    const pid = await runcPid(b, c.id);
    t.true(pid > 0, 'runc on B knows it');
    await sleep(500);
    t.true(continuous(await ticks(a, c.out)), 'counter continues without gap or repeat');
    await askChecksum(() => b.exec(['kill', '-USR1', String(pid)]), output); // every page verifies (bad=0)
    t.log(`rounds ${JSON.stringify(rounds.map((r) => r.pages_written))}; final dump ${report.criu.dump!.pagesWritten} pages; freeze ${report.freeze_ms} ms ${JSON.stringify(report.phases_ms)}`);
  } finally {
    await c.remove();
  }
});

test.serial('post-copy of a runc container in the guest: the freeze carries no memory, it arrives after the restore; counter and memory intact', async (t) => {
  const c = await startRuncContainer(a, b, MEMLOAD);
  const output = async () => (await readFileVia(a, c.out)).toString('utf8');
  try {
    await sleep(300);
    const report = await migrateRuncContainer({ id: c.id, source: a, target: b, strategy: 'postcopy' });
    t.is(report.outcome, 'migrated', JSON.stringify(report.error));
    t.is(report.strategy, 'postcopy');
    t.true(report.lazy_pages!.total >= 16 * 256, `the memory came after the restore: ${JSON.stringify(report.lazy_pages)}`);
    t.true(report.postcopy_ms! > 0);
    t.is(await runcPid(a, c.id), 0, 'the source container is gone once every page arrived');
    const pid = await runcPid(b, c.id);
    t.true(pid > 0, 'runc on B knows it');
    await sleep(500);
    t.true(continuous(await ticks(a, c.out)), 'counter continues without gap or repeat');
    await askChecksum(() => b.exec(['kill', '-USR1', String(pid)]), output);
    t.log(`lazy ${JSON.stringify(report.lazy_pages)}; freeze ${report.freeze_ms} ms ${JSON.stringify(report.phases_ms)}, window ${report.postcopy_ms} ms`);
  } finally {
    await c.remove();
  }
});

test.serial('hybrid of a runc container in the guest: pre-dump rounds, then a lazy runc checkpoint on top of them; post-copy carries only the rest', async (t) => {
  const c = await startRuncContainer(a, b, MEMLOAD);
  const output = async () => (await readFileVia(a, c.out)).toString('utf8');
  try {
    await sleep(300);
    const report = await migrateRuncContainer({ id: c.id, source: a, target: b, strategy: 'hybrid', precopy: { downtimeTargetMs: 0, fewPages: 0, maxRounds: 2 } });
    t.is(report.outcome, 'migrated', JSON.stringify(report.error));
    t.is(report.strategy, 'hybrid');
    const rounds = report.precopy!.rounds;
    t.is(rounds.length, 2);
    const lp = report.lazy_pages!;
    t.true(lp.total > 0 && lp.total < rounds[0]!.pages_written, `post-copy carried only what the rounds did not: ${JSON.stringify(lp)}`);
    const pid = await runcPid(b, c.id);
    t.true(pid > 0, 'runc on B knows it');
    await sleep(500);
    t.true(continuous(await ticks(a, c.out)), 'counter continues without gap or repeat');
    await askChecksum(() => b.exec(['kill', '-USR1', String(pid)]), output);
    t.log(`rounds ${JSON.stringify(rounds.map((r) => r.pages_written))}; lazy ${JSON.stringify(lp)}; freeze ${report.freeze_ms} ms`);
  } finally {
    await c.remove();
  }
});
