/**
 * The page channel's choice: only the channels the plan opens are probed; ssh is never probed;
 * auto falls back to SSH with the reason in the report; direct stops before the freeze.
 */
import test from 'ava';
import { isMigrateError } from '../../../../transports/errors.js';
import type { Transport } from '../../../../transports/transport.js';
import { emptyReport } from '../../../../src/migration/report.js';
import { planFor } from '../../../../src/migration/pipeline/plan.js';
import { choosePageRoutes, type PageChannelMode } from '../../../../src/migration/pipeline/page-channel.js';
import type { ProbeServer } from '../../../../src/transfer/direct-route.js';
import { dirsUnder } from '../../../../src/migration/workload.js';
import type { Strategy } from '../../../../src/migration/strategy.js';
import type { PageTransport } from '../../../../src/migration/report.js';

/** A host at `address` whose connection attempts succeed unless `blocked`. */
const host = (name: string, address: string, blocked = false) => ({
  name, isLocal: false, networkHost: address,
  exec: async (argv: readonly string[]) => ({ stdout: '', stderr: '', exitCode: blocked && argv.join(' ').includes('can-connect') ? 124 : 0 }),
}) as unknown as Transport;

function setup(o: { mode: PageChannelMode; strategy?: Strategy; pages?: PageTransport; blocked?: 'source' | 'target' }) {
  const probed: string[] = [];
  const probe: ProbeServer = async (t, _d, address) => {
    probed.push(`${t.name}@${address}`);
    return { port: 30000, done: Promise.resolve(), kill: () => {} };
  };
  const c = {
    source: host('a', '10.0.0.1', o.blocked === 'source'), target: host('b', '10.0.0.2', o.blocked === 'target'),
    plan: planFor(o.strategy ?? 'cold'), pages: o.pages ?? 'page-server', pageChannel: o.mode,
    report: emptyReport('process-tree', 'x', o.pages ?? 'page-server'),
  };
  return { c, probed, run: () => choosePageRoutes(c, dirsUnder('/var/lib/migrate/x-1'), probe) };
}

test('ssh: nothing is probed, the report says it is the default', async (t) => {
  const s = setup({ mode: 'ssh' });
  t.deepEqual(await s.run(), {});
  t.deepEqual(s.probed, []);
  t.is(s.c.report.page_channel, 'ssh');
  t.regex(s.c.report.page_channel_reason!, /--page-channel ssh \(the default/);
});

test('direct, cold with a page server: only the target listens; post-copy: only the source', async (t) => {
  const cold = setup({ mode: 'direct' });
  t.deepEqual(await cold.run(), { toTarget: '10.0.0.2', toSource: undefined });
  t.deepEqual(cold.probed, ['b@10.0.0.2']);
  t.is(cold.c.report.page_channel, 'direct');
  const post = setup({ mode: 'direct', strategy: 'postcopy' });
  t.deepEqual(await post.run(), { toTarget: undefined, toSource: '10.0.0.1' });
  t.deepEqual(post.probed, ['a@10.0.0.1']);
});

test('no page channel at all (images streamed, eager restore): nothing is probed', async (t) => {
  const s = setup({ mode: 'direct', pages: 'stream' });
  t.deepEqual(await s.run(), {});
  t.deepEqual(s.probed, []);
  t.regex(s.c.report.page_channel_reason!, /stream over SSH/);
});

test('auto, blocked: through SSH, and the report says why', async (t) => {
  const s = setup({ mode: 'auto', strategy: 'postcopy', blocked: 'target' });
  t.deepEqual(await s.run(), {});
  t.is(s.c.report.page_channel, 'ssh');
  t.regex(s.c.report.page_channel_reason!, /b cannot connect to 10\.0\.0\.1:30000 on a: no answer within 3 s/);
});

test('direct, blocked: PREFLIGHT before anything is frozen, with what to do', async (t) => {
  const s = setup({ mode: 'direct', blocked: 'source' });
  const e = await t.throwsAsync(s.run());
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(e!.message, /no direct page channel between a and b: a cannot connect to 10\.0\.0\.2:30000 on b/);
  t.regex(e!.message, /--page-channel ssh/);
});
