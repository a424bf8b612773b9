import test from 'ava';
import { assess } from '../../../src/check/assess.js';
import type { HostInfo } from '../../../src/check/host-info.js';

function host(name: string, features: Record<string, boolean>, usable = true): HostInfo {
  return {
    host: name,
    kernel: '6.18',
    criu: { installed: true, version: '4.1.1', usable, problems: usable ? [] : ['criu check failed'], features },
    docker: { version: '20.10', experimental: true, rootDir: '/var/lib/docker' },
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
