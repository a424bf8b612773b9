import test from 'ava';
import { FIXED_FREEZE_MS, MEMORY_HEADROOM, POSTCOPY_WINDOW_FACTOR, estimate, planDrain, schedule, type Candidate, type TargetFacts } from '../../../src/drain/plan.js';

const MiB = 2 ** 20;
const c = (name: string, mib: number, image = 'app'): Candidate => ({ kind: 'docker', name, id: `${name}-id`, image, rss: mib * MiB });
const target = (host: string, over: Partial<TargetFacts> = {}): TargetFacts => ({
  host, memoryFree: 4096 * MiB, diskFree: 100_000 * MiB, images: ['app'], uffd: true, throughput: 100e6, ...over,
});

test('largest memory first by default; by name or as given on request', (t) => {
  const cs = [c('b', 10), c('a', 500), c('c', 100)];
  t.deepEqual(planDrain(cs, [target('t')]).moves.map((m) => m.name), ['a', 'c', 'b']);
  t.deepEqual(planDrain(cs, [target('t')], { order: 'name' }).moves.map((m) => m.name), ['a', 'b', 'c']);
  t.deepEqual(planDrain(cs, [target('t')], { order: 'given' }).moves.map((m) => m.name), ['b', 'a', 'c']);
});

test('each container goes to the target with the most memory left; what it takes is reserved', (t) => {
  const plan = planDrain([c('big', 1000), c('mid', 600), c('small', 100)], [target('x', { memoryFree: 1500 * MiB }), target('y', { memoryFree: 1200 * MiB })], {}, 'src');
  t.deepEqual(plan.moves.map((m) => [m.name, m.from, m.to]), [['big', 'src', 'x'], ['mid', 'src', 'y'], ['small', 'src', 'y']]);
});

test('a target without the image, memory or disk is passed over; a container none can take is skipped with every reason', (t) => {
  const plan = planDrain([c('web', 200, 'nginx'), c('db', 3000)], [
    target('noimg', { images: ['app'] }),
    target('small', { memoryFree: 100 * MiB, images: ['app', 'nginx'] }),
    target('nodisk', { diskFree: 10 * MiB, images: ['app', 'nginx'] }),
  ]);
  const db = plan.moves.find((m) => m.name === 'db')!;
  t.is(db.to, 'noimg');
  const web = plan.moves.find((m) => m.name === 'web')!;
  t.is(web.to, null);
  t.regex(web.skip!, /noimg lacks image nginx \(--transfer-image sends it\)/);
  t.regex(web.skip!, /small has 100 MiB of memory left, \d+ MiB needed/);
  t.regex(web.skip!, /nodisk has 10 MiB of disk left/);
  t.is(planDrain([c('web', 200, 'nginx')], [target('noimg')], { transferImage: true }).moves[0]!.to, 'noimg');
  t.is(planDrain([c('x', 1000)], [target('t', { memoryFree: 1000 * MiB + MEMORY_HEADROOM - 1 })]).moves[0]!.to, null, 'headroom kept');
});

test('strategy by auto\'s rules, estimates from the measured throughput, --max-freeze skips', (t) => {
  const plan = planDrain([c('big', 1024), c('small', 16)], [target('t', { throughput: 100e6 })], { maxFreezeMs: 790 });
  const [big, small] = plan.moves;
  t.is(big!.strategy, 'postcopy');
  t.is(big!.est_freeze_ms, FIXED_FREEZE_MS.docker.postcopy);
  t.truthy(big!.skip, 'a container\'s post-copy fixed cost 800 ms > 790');
  t.is(small!.strategy, 'cold');
  t.is(small!.est_freeze_ms, Math.round(FIXED_FREEZE_MS.docker.cold + (16 * MiB / 100e6) * 1000));
  t.truthy(small!.skip, 'cold: 825 ms and the copy');
  t.is(planDrain([c('big', 1024)], [target('t', { uffd: false })]).moves[0]!.strategy, 'cold');
  t.is(planDrain([c('big', 1024)], [target('t')], { strategy: 'cold' }).moves[0]!.reason, 'asked for (--strategy cold)');
});

test('a process tree\'s freeze is estimated from a tree\'s fixed costs, far below a container\'s: --max-freeze 500 moves the tree, skips the container', (t) => {
  const tree: Candidate = { kind: 'tree', name: 'pid 42', id: '42', rss: 1024 * MiB };
  const plan = planDrain([tree, c('web', 1024)], [target('t')], { maxFreezeMs: 500, order: 'given' });
  t.deepEqual(plan.moves.map((m) => [m.name, m.strategy, m.est_freeze_ms, m.to]), [['pid 42', 'postcopy', FIXED_FREEZE_MS.tree.postcopy, 't'], ['web', 'postcopy', FIXED_FREEZE_MS.docker.postcopy, null]]);
  for (const s of ['cold', 'precopy', 'postcopy', 'hybrid'] as const) t.true(FIXED_FREEZE_MS.tree[s] < FIXED_FREEZE_MS.docker[s], s);
});

test('the whole drain: moves in plan order to the first free of N workers', (t) => {
  t.is(schedule([5, 3, 3, 1], 1), 12);
  t.is(schedule([5, 3, 3, 1], 2), 6);
  t.is(schedule([], 2), 0);
  const e = estimate('docker', 'cold', 100e6, 100e6);
  t.is(e.freeze, FIXED_FREEZE_MS.docker.cold + 1000);
  const p = estimate('docker', 'postcopy', 100e6, 100e6);
  t.is(p.freeze, FIXED_FREEZE_MS.docker.postcopy, 'post-copy\'s freeze carries no memory');
  t.is(p.move - estimate('docker', 'postcopy', 0, 100e6).move, 1000 * POSTCOPY_WINDOW_FACTOR, 'it copies the memory after the freeze, at the window\'s pace');
});

test('trees and runc containers are placed by memory and disk alone (no image to have)', (t) => {
  const tree: Candidate = { kind: 'tree', name: 'pid 42', id: '42', rss: 100 * MiB };
  const plan = planDrain([tree], [target('t', { images: [] })], {}, 'src');
  t.deepEqual(plan.moves.map((m) => [m.kind, m.name, m.id, m.to]), [['tree', 'pid 42', '42', 't']]);
  t.is(plan.moves[0]!.image, undefined);
});

test('the memory crosses both legs through the controller: a move\'s link is the slower of the source\'s and the target\'s', (t) => {
  const fast = target('t', { throughput: 300e6 });
  const fromSlow = planDrain([c('web', 150)], [fast], { strategy: 'cold', sourceThroughput: 100e6 }, 'b');
  t.is(fromSlow.moves[0]!.est_freeze_ms, Math.round(FIXED_FREEZE_MS.docker.cold + (150 * MiB / 100e6) * 1000));
  t.deepEqual(fromSlow.sources, [{ host: 'b', throughput_mb_s: 100 }]);
  const fromHere = planDrain([c('web', 150)], [fast], { strategy: 'cold' }, 'local');
  t.is(fromHere.moves[0]!.est_freeze_ms, Math.round(FIXED_FREEZE_MS.docker.cold + (150 * MiB / 300e6) * 1000), 'a source that is the controller adds no leg');
  t.deepEqual(fromHere.sources, [{ host: 'local', throughput_mb_s: null }]);
  t.is(planDrain([c('web', 150)], [target('t', { throughput: 50e6 })], { strategy: 'cold', sourceThroughput: 100e6 }).moves[0]!.est_freeze_ms,
    Math.round(FIXED_FREEZE_MS.docker.cold + (150 * MiB / 50e6) * 1000), 'the target\'s leg when it is the slower');
});
