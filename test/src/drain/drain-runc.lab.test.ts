/**
 * `drain --runc` (issue 19): a container runc runs by itself drains from the soft-dirty guest's
 * host A to B and comes back with undrain, through the library entry, its counter continuous.
 * The guest's hosts share one cgroup tree, so B's bundle names another cgroup than A's
 * (test/helpers/runc.ts): the restored container must live in B's, or runc on B cannot
 * checkpoint it again for the way back.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { drain, undrain } from '../../../src/index.js';
import { ensureGuest, guestSshOpts } from '../../helpers/guest.js';
import { runcPid, startRuncContainer } from '../../helpers/runc.js';
import { continuous, ticks } from '../../helpers/workload.js';

const g = ensureGuest();
const a = new SshTransport(g.a, guestSshOpts(g));
const b = new SshTransport(g.b, guestSshOpts(g));
test.after.always(() => Promise.all([a.close(), b.close()]));

test.serial('a runc container drains A → B and undrains back, counter continuous', async (t) => {
  const c = await startRuncContainer(a, b, ['--mib', '16', '--tick-ms', '20']);
  const journalDir = mkdtempSync(join(tmpdir(), 'drains-'));
  try {
    const out = await drain({ source: a, targets: [b], runc: [c.id], journalDir });
    t.is(out.outcome, 'drained', JSON.stringify(out.containers));
    t.deepEqual(out.containers.map((x) => [x.name, x.outcome, x.to]), [[`runc ${c.id}`, 'migrated', b.name]]);
    t.is(await runcPid(a, c.id), 0);
    const onB = await runcPid(b, c.id);
    t.true(onB > 0);
    // In the cgroup runc on B manages (its config.json's), not the source's path (cgroup v2: manage-cgroups=ignore).
    t.is((await b.exec(['cat', `/proc/${onB}/cgroup`])).stdout.trim(), `0::/migrate-runc/b/${c.id}`);
    const back = await undrain({ id: out.id!, hosts: [a, b], journalDir });
    t.is(back.outcome, 'drained', JSON.stringify(back.containers));
    t.true((await runcPid(a, c.id)) > 0, 'back on A');
    t.is(await runcPid(b, c.id), 0);
    await sleep(300);
    t.true(continuous(await ticks(a, c.out)), 'one counter across A → B → A');
  } finally {
    await c.remove();
  }
});
