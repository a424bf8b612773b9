/**
 * The lazy freeze on a direct page channel, with stand-in hosts: the target's daemon is pointed
 * at the source's own address (no relay) — the page server's, or the page forwarder's in front
 * of it on loopback — the window's bytes come from the daemon's log, and a daemon whose TLS
 * handshake never completes fails the window within ANSWER_WITHIN_MS, after the source's
 * connections on the page server's port were ended.
 */
import test from 'ava';
import { isMigrateError } from '../../../../transports/errors.js';
import type { ExecResult, Transport } from '../../../../transports/transport.js';
import type { CriuService, PageServer } from '../../../../src/criu/services.js';
import type { MigrateEvent } from '../../../../src/events.js';
import { emptyReport } from '../../../../src/migration/report.js';
import type { MoveContext } from '../../../../src/migration/pipeline/context.js';
import { LazyFreeze } from '../../../../src/migration/pipeline/lazy-freeze.js';
import { planFor } from '../../../../src/migration/pipeline/plan.js';
import { dirsUnder } from '../../../../src/migration/workload.js';
import { DEFAULT_POLICY } from '../../../../src/migration/precopy-policy.js';
import { ANSWER_WITHIN_MS } from '../../../../src/transfer/page-relay.js';

const settled = <T>() => {
  let resolve!: (v: T) => void;
  const p = new Promise<T>((r) => (resolve = r));
  return { p, resolve };
};

/** A host that records its commands and answers them with `answer`. */
function host(name: string, answer: (cmd: string) => Partial<ExecResult> = () => ({})) {
  const commands: string[] = [];
  const t = {
    name, isLocal: false, networkHost: name,
    exec: async (argv: readonly string[]) => {
      const cmd = argv.join(' ');
      commands.push(cmd);
      return { stdout: '', stderr: '', exitCode: 0, ...answer(cmd) };
    },
    openStream: async () => { throw new Error('no relay on a direct channel'); },
  } as unknown as Transport;
  return { t, commands };
}

const PAGES = 16384; // 64 MiB

type ForwarderAnswer = 'runs' | 'unavailable';

function setup(handshake: boolean, o: { forwarder?: ForwarderAnswer; mode?: 'auto' | 'off' } = {}) {
  const source = host('10.0.0.1');
  const target = host('10.0.0.2', (cmd) => {
    if (cmd.includes('TLS handshake completed')) return { exitCode: handshake ? 0 : 1 };
    if (cmd.includes('lazy-pages-read-bytes')) return { stdout: `${PAGES * 4096}\n` };
    if (cmd.includes('UFFD transferred pages')) return { stdout: `#PF at 0x1000\nUFFD transferred pages: (${PAGES}/${PAGES})\n` };
    return {};
  });
  const dump = settled<void>();
  const daemon = settled<void>();
  const reached: Array<{ host: string; port: number }> = [];
  const server: PageServer = { port: 31000, done: dump.p, kill: () => {} };
  const lazy: CriuService = { done: daemon.p, kill: () => {} };
  const events: MigrateEvent[] = [];
  const forwarded = settled<number>();
  const told: number[] = [];
  const forwarderStarts: Array<{ host: string; address: string }> = [];
  const c = {
    pageForwarder: o.mode,
    source: source.t, target: target.t, report: emptyReport('process-tree', 'x', 'page-server'), plan: planFor('postcopy'), policy: DEFAULT_POLICY,
    workRoot: '/w', runPrefix: 'x', residentBytes: PAGES * 4096, pages: 'page-server', restore: 'lazy', freezeTimeoutMs: 60_000,
    emit: (e: MigrateEvent) => events.push(e),
    workload: { checkpointLazy: async (_d: unknown, o: { address?: string }) => { reached.push({ host: o.address ?? '', port: 0 }); return server; } },
    services: {
      pageServer: async () => { throw new Error('unused'); },
      lazyPages: async () => { throw new Error('unused'); },
      remoteLazyPages: async (_t: Transport, _d: unknown, ep: { host: string; port: number }) => { reached.push(ep); return lazy; },
      pageForwarder: async (on: Transport, f: { address: string }) => {
        forwarderStarts.push({ host: on.name, address: f.address });
        if (o.forwarder !== 'runs') return { unavailable: 'no node on 10.0.0.1' };
        return { port: 41000, upstream: (p: number) => told.push(p), done: forwarded.p, kill: () => {} };
      },
    },
  } as unknown as MoveContext;
  const freeze = new LazyFreeze(c, dirsUnder('/w/x-1'), undefined, '10.0.0.1');
  return { c, freeze, source, target, dump, daemon, reached, events, forwarded, told, forwarderStarts };
}

test('direct: the dump serves on the source\'s address, the daemon dials it, the window counts the pages the daemon placed', async (t) => {
  const s = setup(true);
  await s.freeze.dump(() => {});
  t.deepEqual(s.freeze.serving(), { host: '10.0.0.1', port: 31000 });
  await s.freeze.beforeRestore();
  t.deepEqual(s.reached, [{ host: '10.0.0.1', port: 0 }, { host: '10.0.0.1', port: 31000 }]);
  const window = s.freeze.window(Date.now());
  setTimeout(() => { s.daemon.resolve(); s.dump.resolve(); }, 50);
  await window;
  t.is(s.c.report.bytes.raw, PAGES * 4096);
  t.deepEqual(s.c.report.lazy_pages, { on_demand: 1, background: PAGES - 1, total: PAGES });
  const last = s.events.filter((e) => e.kind === 'progress').pop();
  t.like(last, { what: 'postcopy', done: true, bytes: PAGES * 4096 });
});

test('direct: no completed handshake within the answer deadline fails the window, after the source\'s connections on the port were ended', async (t) => {
  const s = setup(false);
  await s.freeze.dump(() => {});
  await s.freeze.beforeRestore();
  const started = Date.now();
  const alive = setInterval(() => {}, 1000); // the watch's own timers do not keep the process up (an SSH connection would)
  const e = await t.throwsAsync(s.freeze.window(Date.now()));
  clearInterval(alive);
  const ms = Date.now() - started;
  t.true(isMigrateError(e, 'TRANSFER_FAILED'), String(e));
  t.regex(e!.message, /lazy-pages daemon did not complete its TLS handshake with 10\.0\.0\.1:31000 within 10 s/);
  t.true(ms >= ANSWER_WITHIN_MS - 500 && ms < ANSWER_WITHIN_MS + 5000, `${ms} ms`);
  t.true(s.source.commands.some((cmd) => /cut-connections/.test(cmd) && / from 10\.0\.0\.1 31000$/.test(cmd)), s.source.commands.join('\n'));
});

test('direct with the page forwarder: the dump serves on the source\'s loopback, the forwarder is told its port, the daemon dials the forwarder; the window lasts until its session ended', async (t) => {
  const s = setup(true, { forwarder: 'runs' });
  await s.freeze.open();
  t.deepEqual(s.forwarderStarts, [{ host: '10.0.0.1', address: '10.0.0.1' }], 'started before the freeze, on the source, listening on the route\'s address');
  t.deepEqual(s.c.report.page_forwarder, { used: true });
  await s.freeze.dump(() => {});
  t.deepEqual(s.told, [31000]);
  t.deepEqual(s.freeze.serving(), { host: '127.0.0.1', port: 31000 }, 'the source\'s guard hangs up on the page server itself');
  await s.freeze.beforeRestore();
  t.deepEqual(s.reached, [{ host: '127.0.0.1', port: 0 }, { host: '10.0.0.1', port: 41000 }]);
  let over = false;
  const window = s.freeze.window(Date.now()).then(() => (over = true));
  s.daemon.resolve();
  s.dump.resolve();
  await new Promise((r) => setTimeout(r, 100));
  t.false(over, 'not before the forwarder\'s session ended');
  s.forwarded.resolve(PAGES * 4096);
  await window;
  t.is(s.c.report.bytes.raw, PAGES * 4096);
});

test('direct with the page forwarder: no completed handshake fails the window, after the page server\'s connections on loopback were ended', async (t) => {
  const s = setup(false, { forwarder: 'runs' });
  await s.freeze.open();
  await s.freeze.dump(() => {});
  await s.freeze.beforeRestore();
  const alive = setInterval(() => {}, 1000);
  const e = await t.throwsAsync(s.freeze.window(Date.now()));
  clearInterval(alive);
  t.regex(e!.message, /lazy-pages daemon did not complete its TLS handshake with 10\.0\.0\.1:41000 \(the page forwarder, for the page server on 127\.0\.0\.1:31000\) within 10 s/);
  t.true(s.source.commands.some((cmd) => /cut-connections/.test(cmd) && / from 127\.0\.0\.1 31000$/.test(cmd)), s.source.commands.join('\n'));
});

test('direct, a source without the page forwarder: the report says why, and the page server serves on the route\'s address', async (t) => {
  const s = setup(true, { forwarder: 'unavailable' });
  await s.freeze.open();
  t.deepEqual(s.c.report.page_forwarder, { used: false, reason: 'no node on 10.0.0.1' });
  await s.freeze.dump(() => {});
  t.deepEqual(s.freeze.serving(), { host: '10.0.0.1', port: 31000 });
  await s.freeze.beforeRestore();
  t.deepEqual(s.reached, [{ host: '10.0.0.1', port: 0 }, { host: '10.0.0.1', port: 31000 }]);
});

test('direct, --page-forwarder off: none is started, and the report says so', async (t) => {
  const s = setup(true, { forwarder: 'runs', mode: 'off' });
  await s.freeze.open();
  t.deepEqual(s.forwarderStarts, []);
  t.deepEqual(s.c.report.page_forwarder, { used: false, reason: '--page-forwarder off' });
  await s.freeze.dump(() => {});
  t.deepEqual(s.freeze.serving(), { host: '10.0.0.1', port: 31000 });
});
