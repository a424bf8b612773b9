import test from 'ava';
import { AUTO_MEMORY_MIN, chooseStrategy, factsNeeded } from '../../../src/migration/strategy.js';

const big = 1024 * 2 ** 20;

test('small workloads go cold, whatever the hosts can do', (t) => {
  const c = chooseStrategy({ kind: 'process-tree', residentBytes: 64 * 2 ** 20, sourceSoftDirty: true, targetUffd: true });
  t.is(c.strategy, 'cold');
  t.regex(c.reason, /64 MiB resident/);
  t.deepEqual(factsNeeded('docker', 64 * 2 ** 20), { softDirty: false, uffd: false }, 'nothing to probe');
});

test('a big process tree pre-copies where the kernel tracks dirty pages; with userfaultfd on the target post-copy may finish it', (t) => {
  const c = chooseStrategy({ kind: 'process-tree', residentBytes: big, sourceSoftDirty: true, targetUffd: true });
  t.is(c.strategy, 'precopy');
  t.true(c.lazyFinish);
  t.regex(c.reason, /should its rounds not converge, post-copy finishes it/);
  const d = chooseStrategy({ kind: 'process-tree', residentBytes: big, sourceSoftDirty: true, targetUffd: false });
  t.is(d.strategy, 'precopy');
  t.falsy(d.lazyFinish);
  t.falsy(chooseStrategy({ kind: 'runc', residentBytes: big, sourceSoftDirty: true, targetUffd: true }).lazyFinish, 'runc containers have no post-copy');
});

test('what counts as big can be set', (t) => {
  t.is(chooseStrategy({ kind: 'process-tree', residentBytes: 16 * 2 ** 20, sourceSoftDirty: true, targetUffd: true, memoryMin: 2 ** 20 }).strategy, 'precopy');
  t.deepEqual(factsNeeded('process-tree', 16 * 2 ** 20, 2 ** 20), { softDirty: true, uffd: true });
});

test('never pre-copy without soft-dirty (these machines): post-copy where the target has userfaultfd, else cold', (t) => {
  const p = chooseStrategy({ kind: 'process-tree', residentBytes: big, sourceSoftDirty: false, targetUffd: true });
  t.is(p.strategy, 'postcopy');
  t.regex(p.reason, /lacks soft-dirty/);
  t.is(chooseStrategy({ kind: 'process-tree', residentBytes: big, sourceSoftDirty: false, targetUffd: false }).strategy, 'cold');
});

test('Docker containers pre-copy where the kernel tracks dirty pages, else post-copy when big', (t) => {
  t.is(chooseStrategy({ kind: 'docker', residentBytes: big, sourceSoftDirty: true, targetUffd: true }).strategy, 'precopy');
  const c = chooseStrategy({ kind: 'docker', residentBytes: big, sourceSoftDirty: false, targetUffd: true });
  t.is(c.strategy, 'postcopy');
  t.regex(c.reason, /lacks soft-dirty/);
  t.deepEqual(factsNeeded('docker', AUTO_MEMORY_MIN), { softDirty: true, uffd: true });
  t.deepEqual(factsNeeded('process-tree', AUTO_MEMORY_MIN), { softDirty: true, uffd: true });
});

test('runc containers pre-copy where the kernel tracks dirty pages, else go cold (no post-copy for them)', (t) => {
  t.is(chooseStrategy({ kind: 'runc', residentBytes: big, sourceSoftDirty: true, targetUffd: true }).strategy, 'precopy');
  const c = chooseStrategy({ kind: 'runc', residentBytes: big, sourceSoftDirty: false, targetUffd: true });
  t.is(c.strategy, 'cold');
  t.regex(c.reason, /lacks soft-dirty.*post-copy is not implemented for runc containers/);
  t.deepEqual(factsNeeded('runc', AUTO_MEMORY_MIN), { softDirty: true, uffd: false });
});
