import test from 'ava';
import { AUTO_MEMORY_MIN, chooseStrategy, factsNeeded } from '../../../src/migration/strategy.js';

const big = 1024 * 2 ** 20;

test('small workloads go cold, whatever the hosts can do', (t) => {
  const c = chooseStrategy({ residentBytes: 64 * 2 ** 20, sourceSoftDirty: true, targetUffd: true });
  t.is(c.strategy, 'cold');
  t.regex(c.reason, /64 MiB resident/);
  t.deepEqual(factsNeeded(64 * 2 ** 20), { softDirty: false, uffd: false }, 'nothing to probe');
  t.deepEqual(factsNeeded(AUTO_MEMORY_MIN), { softDirty: true, uffd: true });
});

test('a big workload pre-copies where the kernel tracks dirty pages; with userfaultfd on the target post-copy may finish it', (t) => {
  const c = chooseStrategy({ residentBytes: big, sourceSoftDirty: true, targetUffd: true });
  t.is(c.strategy, 'precopy');
  t.true(c.lazyFinish);
  t.regex(c.reason, /should its rounds not converge, post-copy finishes it/);
  const d = chooseStrategy({ residentBytes: big, sourceSoftDirty: true, targetUffd: false });
  t.is(d.strategy, 'precopy');
  t.falsy(d.lazyFinish);
});

test('never pre-copy without soft-dirty (these machines): post-copy where the target has userfaultfd, else cold', (t) => {
  const p = chooseStrategy({ residentBytes: big, sourceSoftDirty: false, targetUffd: true });
  t.is(p.strategy, 'postcopy');
  t.regex(p.reason, /lacks soft-dirty/);
  const c = chooseStrategy({ residentBytes: big, sourceSoftDirty: false, targetUffd: false });
  t.is(c.strategy, 'cold');
  t.regex(c.reason, /lacks soft-dirty .* lacks userfaultfd/);
});

test('what counts as big can be set', (t) => {
  t.is(chooseStrategy({ residentBytes: 16 * 2 ** 20, sourceSoftDirty: true, targetUffd: true, memoryMin: 2 ** 20 }).strategy, 'precopy');
  t.deepEqual(factsNeeded(16 * 2 ** 20, 2 ** 20), { softDirty: true, uffd: true });
});
