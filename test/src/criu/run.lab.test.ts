/** The CRIU driver on real CRIU: dump and restore a process tree in its own PID namespace. */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../../transports/transport.js';
import { dump, readDumpStats, readRestoreStats, restore } from '../../../src/criu/run.js';
import { criuVersion } from '../../../src/criu/version.js';
import { isMigrateError } from '../../../transports/errors.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { continuous, startTree, tempDir, ticks } from '../../helpers/workload.js';

const lab = ensureLab();
const hosts: Array<[string, Transport]> = [
  ['local', new LocalTransport()],
  ['host B over SSH', new SshTransport(lab.target, sshOpts(lab))],
];
test.after.always(async () => {
  for (const [, t] of hosts) await t.close();
});

for (const [label, t] of hosts) {
  test.serial(`dump + restore of a process tree through the driver (${label})`, async (tt) => {
    const dir = await tempDir(t);
    const w = await startTree(t, lab.memload, ['--mib', '32', '--tick-ms', '20'], dir);
    try {
      await sleep(300);
      await dump(t, { pid: w.pid, imagesDir: `${dir}/images` });
      const before = await ticks(t, w.out);
      const alive = await t.exec(['kill', '-0', String(w.pid)], { allowFailure: true });
      tt.not(alive.exitCode, 0, 'the dumped tree is gone');

      const ds = await readDumpStats(t, `${dir}/images`);
      tt.true(ds.pagesWritten >= (32 * 256), `pages written ${ds.pagesWritten}`);
      tt.true(ds.frozenTimeUs > 0 && ds.frozenTimeUs < 10_000_000, `frozen ${ds.frozenTimeUs} us`);
      tt.true(ds.memdumpTimeUs > 0 && ds.memdumpTimeUs <= ds.frozenTimeUs);

      await restore(t, { imagesDir: `${dir}/images`, pidfile: `${dir}/restored.pid` });
      const rs = await readRestoreStats(t, `${dir}/images`);
      tt.true(rs.forkingTimeUs > 0 && rs.restoreTimeUs > 0, JSON.stringify(rs));
      await sleep(300);
      const after = await ticks(t, w.out);
      tt.true(after.length > before.length + 3, `${before.length} ticks before, ${after.length} after`);
      tt.true(continuous(after), 'counter continues without gap or repeat');
      tt.log(`${label}: frozen ${ds.frozenTimeUs} us, ${ds.pagesWritten} pages, restore ${rs.restoreTimeUs} us`);
    } finally {
      await t.exec(['sh', '-c', 'kill -9 $(cat "$1/restored.pid" 2>/dev/null) 2>/dev/null; kill -9 "$2" 2>/dev/null; rm -rf "$1"', 'cleanup', dir, String(w.pid)], { allowFailure: true });
    }
  });
}

test('a failing dump raises CRIU_FAILED with the Error lines of its log', async (t) => {
  const local = hosts[1]![1];
  const dir = await tempDir(local);
  try {
    const e = await t.throwsAsync(dump(local, { pid: 999999, imagesDir: dir }));
    t.true(isMigrateError(e, 'CRIU_FAILED'), String(e));
    t.regex(e!.message, /criu dump failed on root@10\.231\.0\.2/);
    t.regex(e!.message, /Error \(/);
    t.regex(e!.message, /full log: .*dump\.log/);
  } finally {
    await local.exec(['rm', '-rf', dir]);
  }
});

test('the version of the lab CRIU is at least 4.1', async (t) => {
  const v = await criuVersion(hosts[0]![1]);
  t.true(v.major > 4 || (v.major === 4 && v.minor >= 1), v.text);
});
