/**
 * Cold migration of a process tree (CRIU directly) between the lab's hosts, both ways. The
 * workload runs in its own PID namespace and writes its output to a directory both lab hosts
 * share (as shared storage would), so the restored tree finds its open file on the target.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../../transports/transport.js';
import { migrateProcessTree } from '../../../src/migration/tree.js';
import { isMigrateError } from '../../../transports/errors.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { assertFreezeAsWorkloadSaw, continuous, memloadCopies, SHARED_DIR, startTree, tempDir, ticks, tickTimes } from '../../helpers/workload.js';
import { readFileVia } from '../../../transports/files.js';
import { treeChecksum } from '../../helpers/containers.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());


const checksum = treeChecksum;

const killTree = (t: Transport, pid: number) => t.exec(['kill', '-KILL', String(pid)], { allowFailure: true });

for (const [label, from, to, restore] of [['A → B', a, b, 'lazy'], ['B → A (remote source), eager restore', b, a, 'eager']] as const) {
  test.serial(`a process tree migrates ${label}: the counter goes on, memory intact`, async (t) => {
    const dir = await tempDir(a, SHARED_DIR);
    const w = await startTree(from, lab.memload, ['--mib', '32', '--tick-ms', '2'], dir);
    let restored: number | undefined;
    try {
      await sleep(300);
      const sumBefore = await checksum(from, w.pid, w.out);
      const report = await migrateProcessTree({ pid: w.pid, source: from, target: to, restore });
      t.is(report.restore, restore);
      t.is(report.outcome, 'migrated');
      t.is(report.runs_on, 'target');
      t.is(report.workload.kind, 'process-tree');
      restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
      t.true(restored > 0);
      t.true(report.criu.dump!.pagesWritten >= 32 * 256);
      t.true(report.bytes.raw > 32 * 2 ** 20);
      t.not((await from.exec(['kill', '-0', String(w.pid)], { allowFailure: true })).exitCode, 0, 'gone from the source');
      await sleep(300);
      const after = await ticks(a, w.out);
      t.true(continuous(after), 'counter continues without gap or repeat');
      t.is(await checksum(to, restored, w.out), sumBefore);
      assertFreezeAsWorkloadSaw(t, report, tickTimes((await readFileVia(a, w.out)).toString('utf8')), 2);
      t.log(`${label}: freeze ${report.freeze_ms} ms ${JSON.stringify(report.freeze_start)} ${JSON.stringify(report.phases_ms)}`);
    } finally {
      if (restored) await killTree(to, restored);
      await killTree(from, w.pid);
      await a.exec(['rm', '-rf', dir]);
    }
  });
}

test.serial('a process tree whose restore fails on the target runs on the source again', async (t) => {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', '16', '--tick-ms', '20'], dir);
  let pid = w.pid;
  try {
    await sleep(300);
    const report = await migrateProcessTree({
      pid: w.pid, source: a, target: b,
      faults: { beforeRestore: async () => { await b.exec(['sh', '-c', 'rm -f /var/lib/migrate/pid-*/images/pages-*.img']); } },
    });
    t.is(report.outcome, 'rolled-back');
    t.is(report.runs_on, 'source');
    t.regex(String(report.error?.message), /criu restore failed/);
    // The lab's hosts share one PID space: count the workload's processes across both.
    const pids = await memloadCopies(a, 16);
    t.is(pids.length, 1, `exactly one copy runs: ${pids.join(' ')}`);
    pid = Number(pids[0]) || pid;
    await sleep(300);
    t.true(continuous(await ticks(a, w.out)));
  } finally {
    await killTree(a, pid);
    await a.exec(['rm', '-rf', dir]);
  }
});

test.serial('bad input for a process tree is refused before anything is frozen', async (t) => {
  const e = await t.throwsAsync(migrateProcessTree({ pid: 999_999, source: a, target: b }));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(e!.message, /no process with PID 999999/);
});
