/**
 * Direct page channels in the lab (issue 20): the memory goes between A and B over CRIU's own
 * TLS connection, not through SSH — counted by iptables rules on B that match only those ports —
 * for a cold dump into B's page server and for post-copy's pulls from A (through A's page
 * forwarder, with and without B's prefetcher, and without the forwarder). A firewall between the
 * hosts stops `--page-channel direct` before anything is frozen, and `auto` then goes through SSH.
 * A local user on B who catches the page server's port reads nothing, and the freeze is cut
 * within seconds (no relay sees the stream: migrate watches the page server's log).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../../transports/local.js';
import { SshTransport } from '../../../../transports/ssh/ssh-transport.js';
import { isMigrateError } from '../../../../transports/errors.js';
import { migrate, type MigrateEvent } from '../../../../src/index.js';
import { REPO, ensureLab, sshOpts } from '../../../helpers/lab.js';
import { checksum, exists, removeEverywhere, running, startContainer, treeChecksum } from '../../../helpers/containers.js';
import { continuous, memloadCopies, SHARED_DIR, startTree, tempDir, ticks } from '../../../helpers/workload.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

const A_ADDR = '10.231.0.1';
/** CRIU's page channel ports (criu/services.ts: random ports from 20000). */
const PORTS = '20000:49999';
const CHAIN = 'migrate-test-pages';

/** Counts what reaches B from A on page channel ports: into them (a dump to B's page server) or out of them (A's lazy page server). */
async function countOnB<T>(fn: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  const ipt = (...args: string[]) => b.exec(['iptables', ...args]);
  await ipt('-N', CHAIN).catch(() => ipt('-F', CHAIN));
  await ipt('-A', CHAIN, '-p', 'tcp', '-s', A_ADDR, '--dport', PORTS, '-j', 'RETURN');
  await ipt('-A', CHAIN, '-p', 'tcp', '-s', A_ADDR, '--sport', PORTS, '-j', 'RETURN');
  await ipt('-I', 'INPUT', '-j', CHAIN);
  try {
    const value = await fn();
    const rows = (await ipt('-L', CHAIN, '-v', '-x', '-n')).stdout.split('\n').filter((l) => /RETURN/.test(l));
    return { value, bytes: rows.reduce((s, l) => s + Number(l.trim().split(/\s+/)[1]), 0) };
  } finally {
    await b.exec(['sh', '-c', `iptables -D INPUT -j ${CHAIN}; iptables -F ${CHAIN}; iptables -X ${CHAIN}`], { allowFailure: true });
  }
}

/** A firewall on B: what A sends to B's page channel ports is dropped (SSH on 22 still works). */
async function blockedOnB<T>(fn: () => Promise<T>): Promise<T> {
  const rule = ['INPUT', '-p', 'tcp', '-s', A_ADDR, '--dport', PORTS, '-j', 'DROP'];
  await b.exec(['iptables', '-I', ...rule]);
  try {
    return await fn();
  } finally {
    await b.exec(['iptables', '-D', ...rule], { allowFailure: true });
  }
}

const MIB = 64;

test.serial('direct, cold: a container\'s pages go straight into B\'s page server; its memory is intact there', async (t) => {
  const name = await startContainer(a, MIB);
  try {
    const sum = await checksum(a, name);
    const events: MigrateEvent[] = [];
    const { value: report, bytes } = await countOnB(() => migrate({
      container: name, source: a, target: b, strategy: 'cold', pages: 'page-server', restore: 'eager', pageChannel: 'direct', onEvent: (e) => events.push(e),
    }));
    t.is(report.outcome, 'migrated');
    t.is(report.page_channel, 'direct');
    t.true(bytes > MIB * 2 ** 20, `${bytes} bytes reached B's page server ports from A`);
    t.true(report.bytes.raw > MIB * 2 ** 20, 'the report counts the pages');
    const memory = events.filter((e) => e.kind === 'progress' && e.what === 'memory');
    t.true(memory.some((e) => e.kind === 'progress' && e.done && e.bytes > MIB * 2 ** 20), 'the memory\'s progress ends with all of it');
    t.is(await running(b, name), 'true');
    t.is(await checksum(b, name), sum);
    t.log(`freeze ${report.freeze_ms} ms, ${JSON.stringify(report.phases_ms)}, ${bytes} bytes direct`);
  } finally {
    await removeEverywhere(name, a, b);
  }
});

/** Post-copy over a direct channel, with or without the prefetcher on B and the page forwarder on A. */
const directPostcopy = (prefetch: 'auto' | 'off', pageForwarder: 'auto' | 'off') => async (t: import('ava').ExecutionContext) => {
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', String(MIB), '--tick-ms', '20'], dir);
  let restored = 0;
  try {
    await sleep(300);
    const sum = await treeChecksum(a, w.pid, w.out);
    const { value: report, bytes } = await countOnB(() => migrate({ pid: w.pid, source: a, target: b, strategy: 'postcopy', pageChannel: 'direct', prefetch, pageForwarder }));
    t.is(report.outcome, 'migrated');
    t.is(report.page_channel, 'direct');
    t.deepEqual(report.page_forwarder, pageForwarder === 'auto' ? { used: true } : { used: false, reason: '--page-forwarder off' });
    restored = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
    t.true(bytes > MIB * 2 ** 20, `${bytes} bytes came from A's ${pageForwarder === 'auto' ? 'page forwarder' : 'lazy page server'} port`);
    if (prefetch === 'auto') t.is(report.prefetch?.stats?.pages_served, report.lazy_pages?.total, 'B\'s prefetcher pulled them straight from A and served every page to the daemon');
    else t.deepEqual(report.prefetch, { used: false, reason: '--prefetch off' });
    t.true(report.bytes.raw >= MIB * 2 ** 20, `the report counts the pages (${report.bytes.raw})`);
    await sleep(300);
    t.true(continuous(await ticks(a, w.out)), 'counter continues without gap or repeat');
    t.is(await treeChecksum(b, restored, w.out), sum);
    t.deepEqual(await memloadCopies(a, MIB), [String(restored)], 'one copy, on B');
    t.log(`freeze ${report.freeze_ms} ms, window ${report.postcopy_ms} ms, ${bytes} bytes direct, pages ${JSON.stringify(report.lazy_pages)}`);
  } finally {
    if (restored) await b.exec(['kill', '-KILL', String(restored)], { allowFailure: true });
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await a.exec(['rm', '-rf', dir]);
  }
};

test.serial('direct, post-copy: a process tree\'s memory is pulled straight from A (B\'s prefetcher, A\'s page forwarder); the counter goes on', directPostcopy('auto', 'auto'));
test.serial('direct, post-copy, as by default: B\'s daemon pulls through A\'s page forwarder; the counter goes on', directPostcopy('off', 'auto'));
test.serial('direct, post-copy, --page-forwarder off: B\'s daemon pulls from A\'s page server on A\'s address; the counter goes on', directPostcopy('off', 'off'));

test.serial('a firewall between the hosts: direct stops before the freeze and says what to do; auto goes through SSH', async (t) => {
  const name = await startContainer(a, 16);
  try {
    const sum = await checksum(a, name);
    await blockedOnB(async () => {
      const e = await t.throwsAsync(migrate({ container: name, source: a, target: b, strategy: 'cold', pageChannel: 'direct' }));
      t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
      t.regex(e!.message, /no direct page channel .* cannot connect to 10\.231\.0\.2:\d+ .*no answer within 3 s/);
      t.regex(e!.message, /--page-channel ssh/);
      t.is(await running(a, name), 'true', 'it never stopped');
      t.false(await exists(b, name), 'no twin left on B');
      const report = await migrate({ container: name, source: a, target: b, strategy: 'cold', pageChannel: 'auto' });
      t.is(report.outcome, 'migrated');
      t.is(report.page_channel, 'ssh');
      t.regex(report.page_channel_reason ?? '', /cannot connect/);
    });
    t.is(await checksum(b, name), sum);
  } finally {
    await removeEverywhere(name, a, b);
  }
});

const RACER = readFileSync(join(REPO, 'test/helpers/page-racer.py'), 'utf8');

test.serial('direct: a local racer for B\'s page server port reads nothing, and the freeze is cut within seconds', async (t) => {
  const name = await startContainer(a, MIB);
  try {
    const sum = await checksum(a, name);
    // As nobody on B, watching B's own address; the first new listener there is the route's probe.
    const racer = b.exec(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'python3', '-c', RACER, '25', '10.231.0.2', '1']);
    await sleep(500);
    const started = Date.now();
    const report = await migrate({ container: name, source: a, target: b, strategy: 'cold', pages: 'page-server', pageChannel: 'direct' });
    const ms = Date.now() - started;
    const seen = JSON.parse((await racer).stdout) as { hits: number[]; received: number };
    const why = String(report.error?.message ?? '');
    t.log(`outcome ${report.outcome} after ${ms} ms (${why}), racer: ${JSON.stringify(seen)}`);
    t.true(seen.hits.length > 0, 'the racer reached the page server\'s port (else this test shows nothing)');
    t.true(seen.received < 64 * 1024, `the racer read ${seen.received} bytes`);
    t.true(report.outcome === 'migrated' || report.outcome === 'rolled-back', report.outcome);
    if (report.outcome === 'rolled-back') {
      t.true(ms < 40_000, 'cut by the handshake watch, not the 120 s freeze deadline');
      t.regex(why, /did not complete its TLS handshake/);
    }
    const where = report.outcome === 'migrated' ? b : a;
    for (let i = 0; i < 100 && (await running(where, name)) !== 'true'; i++) await sleep(200);
    t.is(await running(where, name), 'true');
    t.is(await checksum(where, name), sum, 'memory intact where it runs');
  } finally {
    await removeEverywhere(name, a, b);
  }
});
