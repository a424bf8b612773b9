/**
 * Pre-copy on the lab's own kernel, which has no soft-dirty tracking: refused before anything is
 * frozen, with the reason and the strategies that work. (Pre-copy itself runs in the soft-dirty
 * guest: precopy.guest.test.ts.)
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { migrateProcessTree } from '../../../src/migration/tree.js';
import { migrateDockerContainer } from '../../../src/migration/docker.js';
import { isMigrateError } from '../../../src/errors.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { SHARED_DIR, startTree, tempDir, ticks } from '../../helpers/workload.js';

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

test.serial('pre-copy of a container says it is for process trees only', async (t) => {
  const e = await t.throwsAsync(migrateDockerContainer({ container: 'whatever', source: a, target: b, strategy: 'precopy' }));
  t.true(isMigrateError(e, 'BAD_INPUT'), String(e));
  t.regex(String(e), /process trees only/);
});
