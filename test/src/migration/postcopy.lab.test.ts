/**
 * Post-copy migration of a process tree: only the non-memory state moves while frozen; the
 * memory follows from the source's page server through the SSH connections, pulled ahead of
 * CRIU's lazy-pages daemon by the prefetcher on B (migrate's default) or by the daemon alone.
 * And the post-copy window's failures: the link dies, or the prefetcher does, while memory is
 * still on the source.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { migrateProcessTree } from '../../../src/migration/tree.js';
import { cutSshToB, ensureLab, sshOpts } from '../../helpers/lab.js';
import { continuous, memloadCopies, SHARED_DIR, startTree, tempDir, ticks } from '../../helpers/workload.js';
import { checksum as containerChecksum, containerId, exists, imageDirsOf, logs, removeEverywhere, running, startContainer, tickNums, treeChecksum } from '../../helpers/containers.js';
import { migrateDockerContainer } from '../../../src/migration/docker.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

const checksum = treeChecksum;

test.serial('post-copy: a process tree moves A → B with no memory in the freeze; memory arrives after', async (t) => {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', '96', '--tick-ms', '20'], dir);
  let restored = 0;
  try {
    await sleep(300);
    const sumBefore = await checksum(a, w.pid, w.out);
    const report = await migrateProcessTree({ pid: w.pid, source: a, target: b, strategy: 'postcopy', prefetch: 'auto' });
    t.is(report.outcome, 'migrated');
    t.is(report.strategy, 'postcopy');
    t.true(report.postcopy_ms! >= 0);
    t.true(report.bytes.raw > 96 * 2 ** 20, 'the memory came through the page stream');
    const lp = report.lazy_pages!;
    t.true(lp.total >= 96 * 256, `pages copied in: ${JSON.stringify(lp)}`);
    t.true(lp.on_demand > 0, 'the running workload faulted some pages in itself');
    t.is(lp.on_demand + lp.background, lp.total);
    t.true(report.prefetch?.used, 'the prefetcher on B pulled the memory');
    const pf = report.prefetch!.stats!;
    t.is(pf.pages_served, lp.total, `the daemon got every page through it: ${JSON.stringify(pf)}`);
    t.true(pf.pages_ready + pf.pages_waited > lp.total / 2, 'most of them pulled ahead of the daemon');
    restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
    await sleep(300);
    t.true(continuous(await ticks(a, w.out)), 'counter continues without gap or repeat');
    t.is(await checksum(b, restored, w.out), sumBefore);
    t.deepEqual(await memloadCopies(a, 96), [String(restored)], 'one copy, on B');
    t.log(`freeze ${report.freeze_ms} ms ${JSON.stringify(report.phases_ms)}, post-copy window ${report.postcopy_ms} ms, pages ${JSON.stringify(lp)}`);
  } finally {
    if (restored) await b.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await a.exec(['rm', '-rf', dir]);
  }
});

test.serial('post-copy with --prefetch off: CRIU\'s daemon pulls the memory by itself; the counter goes on, memory intact', async (t) => {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', '64', '--tick-ms', '20'], dir);
  let restored = 0;
  try {
    await sleep(300);
    const sumBefore = await checksum(a, w.pid, w.out);
    const report = await migrateProcessTree({ pid: w.pid, source: a, target: b, strategy: 'postcopy', prefetch: 'off' });
    t.is(report.outcome, 'migrated');
    t.deepEqual(report.prefetch, { used: false, reason: '--prefetch off' });
    t.true(report.lazy_pages!.total >= 64 * 256);
    restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
    await sleep(300);
    t.true(continuous(await ticks(a, w.out)), 'counter continues without gap or repeat');
    t.is(await checksum(b, restored, w.out), sumBefore);
  } finally {
    if (restored) await b.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await a.exec(['rm', '-rf', dir]);
  }
});

/**
 * A 384 MiB tree moved post-copy while `fault` breaks the window: the run rolls back, exactly one
 * copy runs (the original, on A, running on with its memory intact). Returns the report.
 */
async function windowFails(t: import('ava').ExecutionContext, fault: () => Promise<void>, prefetch: 'auto' | 'off' = 'auto') {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', '384', '--tick-ms', '20'], dir);
  try {
    await sleep(1000);
    const sumBefore = await checksum(a, w.pid, w.out);
    const report = await migrateProcessTree({ pid: w.pid, source: a, target: b, strategy: 'postcopy', prefetch, faults: { duringFill: fault } });
    t.is(report.outcome, 'rolled-back');
    t.is(report.runs_on, 'source');
    t.true(report.phases_ms.restore > 0, 'it had resumed on the target');
    t.deepEqual(await memloadCopies(a, 384), [String(w.pid)], 'exactly one copy runs: the original, on A');
    const before = (await ticks(a, w.out)).length;
    await sleep(500);
    t.true((await ticks(a, w.out)).length > before, 'it runs on');
    t.is(await checksum(a, w.pid, w.out), sumBefore, 'memory intact');
    return report;
  } finally {
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await a.exec(['rm', '-rf', dir]);
  }
}

const PREFETCHER = '/prefetch/main\\.js ';

test.serial('post-copy window: the prefetcher on B dies while memory is still on the source; the source resumes, one copy runs', async (t) => {
  const report = await windowFails(t, async () => { await b.exec(['pkill', '-KILL', '-f', PREFETCHER]); });
  t.true(report.prefetch?.used);
  t.regex(String(report.error?.message ?? ''), /lazy-pages|prefetcher|page/, JSON.stringify(report.error));
  t.is((await b.exec(['pgrep', '-f', PREFETCHER], { allowFailure: true })).stdout, '', 'no prefetcher left on B');
});

test.serial('post-copy window: the link dies while memory is still on the source; the source resumes, one copy runs', async (t) => {
  await windowFails(t, cutSshToB);
});

test.serial('post-copy window without the prefetcher (the default): the link dies; the source resumes, one copy runs', async (t) => {
  const report = await windowFails(t, cutSshToB, 'off');
  t.deepEqual(report.prefetch, { used: false, reason: '--prefetch off' });
});

test.serial('post-copy: a Docker container moves A → B; dockerd on B manages it; counter and memory intact', async (t) => {
  const name = await startContainer(a, 128);
  const id = await containerId(a, name);
  try {
    const sumBefore = await containerChecksum(a, name);
    const report = await migrateDockerContainer({ container: name, source: a, target: b, strategy: 'postcopy', keepSource: true });
    t.is(report.outcome, 'migrated');
    t.is(report.strategy, 'postcopy');
    t.true(report.bytes.raw > 128 * 2 ** 20, 'the memory came through the page stream');
    t.is(await running(b, name), 'true');
    t.is(await running(a, name), 'false', 'the source container is kept, exited');
    const lastOnA = Math.max(...tickNums(await logs(a, name)));
    await sleep(500);
    const onB = tickNums(await logs(b, name));
    t.is(onB[0], lastOnA + 1, 'the first tick on B follows the last tick on A');
    t.true(continuous(onB));
    t.is(await containerChecksum(b, name), sumBefore);
    t.deepEqual(report.prefetch, { used: false, reason: '--prefetch off' }, 'off unless asked for: CRIU\'s daemon pulled the pages');
    for (const h of [a, b]) t.is(await imageDirsOf(h, id), 0, `image dirs removed on ${h.name}`);
    t.log(`freeze ${report.freeze_ms} ms ${JSON.stringify(report.phases_ms)}, post-copy window ${report.postcopy_ms} ms`);
  } finally {
    await removeEverywhere(name, a, b);
  }
});

test.serial('post-copy window of a container (auto picks post-copy at 384 MiB): the link dies; the container runs on A again, not on B', async (t) => {
  const name = await startContainer(a, 384);
  try {
    const sumBefore = await containerChecksum(a, name);
    const report = await migrateDockerContainer({
      container: name, source: a, target: b, // strategy: auto (the default)
      faults: { duringFill: cutSshToB },
    });
    t.is(report.strategy, 'postcopy');
    t.regex(report.strategy_reason ?? '', /^auto: 3\d\d MiB resident, the source's kernel lacks soft-dirty \(no pre-copy\), and the target has userfaultfd/);
    t.is(report.outcome, 'rolled-back');
    t.is(report.runs_on, 'source');
    t.is(await running(a, name), 'true');
    t.false(await exists(b, name), 'no twin left on B');
    t.is(await containerChecksum(a, name), sumBefore, 'memory intact');
  } finally {
    await removeEverywhere(name, a, b);
  }
});
