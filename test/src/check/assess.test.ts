import test from 'ava';
import { assess } from '../../../src/check/assess.js';
import type { HostInfo } from '../../../src/check/host-info.js';

function host(name: string, features: Record<string, boolean>, usable = true): HostInfo {
  return {
    host: name,
    kernel: '6.18',
    criu: { installed: true, version: '4.1.1', usable, problems: usable ? [] : ['criu check failed'], features, kdatCache: true },
    docker: { version: '20.10', experimental: true, rootDir: '/var/lib/docker' },
    node: { version: 'v20.20.2' },
  };
}

test('no soft-dirty on the source: pre-copy and hybrid unavailable, named after the kernel option', (t) => {
  const a = assess(host('A', { mem_dirty_track: false, 'uffd-noncoop': true }), host('B', { mem_dirty_track: false, 'uffd-noncoop': true }));
  t.true(a.strategies.cold.available);
  t.true(a.strategies.postcopy.available);
  t.true(a.lazyRestore.available);
  t.false(a.strategies.precopy.available);
  t.false(a.strategies.hybrid.available);
  t.regex(a.strategies.precopy.reasons.join(), /pre-copy unavailable on source A: .*CONFIG_MEM_SOFT_DIRTY/);
});

test('unusable CRIU on the target blocks everything', (t) => {
  const a = assess(host('A', { mem_dirty_track: true, 'uffd-noncoop': true }), host('B', {}, false));
  for (const s of Object.values(a.strategies)) t.false(s.available);
  t.regex(a.strategies.cold.reasons.join(), /CRIU unusable on target B/);
});

test('docker without experimental features is named', (t) => {
  const b = host('B', {});
  b.docker.experimental = false;
  const a = assess(host('A', {}), b);
  t.false(a.docker.available);
  t.regex(a.docker.reasons.join(), /experimental/);
});

test('no userfaultfd on the target: no post-copy, and cold migration restores eagerly', (t) => {
  const a = assess(host('A', { 'uffd-noncoop': true }), host('B', { 'uffd-noncoop': false }));
  t.true(a.strategies.cold.available);
  t.false(a.strategies.postcopy.available);
  t.false(a.lazyRestore.available);
  t.regex(a.lazyRestore.reasons.join(), /lazy restore unavailable \(migrate restores eagerly\): kernel 6\.18 of target B lacks .*uffd-noncoop/);
  t.regex(a.strategies.postcopy.reasons.join(), /post-copy unavailable: kernel 6\.18 of target B/);
});

test('the prefetcher: needs a node of 18 or later on the target (the source\'s does not matter), and post-copy', (t) => {
  const ok = assess(host('A', { 'uffd-noncoop': true }), host('B', { 'uffd-noncoop': true }));
  t.deepEqual(ok.prefetch, { available: true, reasons: [] });

  const a = host('A', { 'uffd-noncoop': true });
  a.node = { version: null, problem: 'node is not installed' };
  t.true(assess(a, host('B', { 'uffd-noncoop': true })).prefetch.available);

  const none = host('B', { 'uffd-noncoop': true });
  none.node = { version: null, problem: 'node is not installed' };
  const n = assess(host('A', {}), none);
  t.false(n.prefetch.available);
  t.true(n.strategies.postcopy.available, 'post-copy still works, without it');
  t.regex(n.prefetch.reasons.join(), /^no node on target B \(node is not installed\): --prefetch auto moves post-copy without it there; install Node 18 or later to use it$/);

  const old = host('B', { 'uffd-noncoop': true });
  old.node = { version: 'v16.20.2' };
  t.regex(assess(host('A', {}), old).prefetch.reasons.join(), /^node v16\.20\.2 is older than 18 on target B: /);

  const noUffd = assess(host('A', {}), host('B', { 'uffd-noncoop': false }));
  t.false(noUffd.prefetch.available);
  t.regex(noUffd.prefetch.reasons.join(), /post-copy unavailable: .*uffd-noncoop/);
});

test('the page forwarder: needs a node on the source (the target\'s does not matter), and post-copy', (t) => {
  t.deepEqual(assess(host('A', { 'uffd-noncoop': true }), host('B', { 'uffd-noncoop': true })).pageForwarder, { available: true, reasons: [] });

  const none = host('A', { 'uffd-noncoop': true });
  none.node = { version: null, problem: 'node is not installed' };
  const n = assess(none, host('B', { 'uffd-noncoop': true }));
  t.false(n.pageForwarder.available);
  t.true(n.strategies.postcopy.available, 'post-copy still works, without it');
  t.regex(n.pageForwarder.reasons.join(), /^no node on source A \(node is not installed\): post-copy over a direct page channel moves without the page forwarder/);

  const b = host('B', { 'uffd-noncoop': true });
  b.node = { version: null, problem: 'node is not installed' };
  t.true(assess(host('A', { 'uffd-noncoop': true }), b).pageForwarder.available);

  const noUffd = assess(host('A', {}), host('B', { 'uffd-noncoop': false }));
  t.false(noUffd.pageForwarder.available);
  t.regex(noUffd.pageForwarder.reasons.join(), /post-copy unavailable: .*uffd-noncoop/);
});
