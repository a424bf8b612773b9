/** The drain's policy with a fake mover: parallel, stop at the first failure or keep going, deadline, hooks, journal and resume. */
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execute, givenOver, type DrainOptions } from '../../../src/drain/drain.js';
import { DrainJournal } from '../../../src/drain/journal.js';
import { planDrain, type Candidate } from '../../../src/drain/plan.js';
import { MigrateError } from '../../../transports/errors.js';
import type { MigrationReport } from '../../../src/migration/report.js';
import type { Transport } from '../../../transports/transport.js';

const MiB = 2 ** 20;
const host = (name: string) => ({ name, isLocal: false }) as unknown as Transport;
const A = host('a');
const B = host('b');
const cands: Candidate[] = ['w1', 'w2', 'w3', 'w4'].map((n, i) => ({ kind: 'docker', name: n, id: `${n}-id`, image: 'app', rss: (40 - i) * MiB }));

function setUp(names = cands) {
  const dir = mkdtempSync(join(tmpdir(), 'drain-'));
  const plan = planDrain(names, [{ host: 'b', memoryFree: 8000 * MiB, diskFree: 1e12, images: ['app'], uffd: true, throughput: 1e8 }], {}, 'a');
  const journal = DrainJournal.create(dir, { id: 'd', from: 'a', to: ['b'], hosts: {}, plan, options: {} });
  return { dir, journal, hosts: new Map([['a', A], ['b', B]]) };
}

/** A mover that takes `ms`, fails for the names in `failing`, and records what ran at once. */
function mover(failing: string[] = [], ms = 20) {
  const moved: string[] = [];
  let running = 0;
  let most = 0;
  const move = async (m: { name: string }) => {
    running++;
    most = Math.max(most, running);
    await sleep(ms);
    running--;
    if (failing.includes(m.name)) throw new MigrateError('PREFLIGHT', `${m.name} refused`, { host: 'a' });
    moved.push(m.name);
    return { outcome: 'migrated', runs_on: 'target', freeze_ms: 100, strategy: 'cold' } as MigrationReport;
  };
  return { move: move as unknown as DrainOptions['move'], moved, most: () => most };
}

const opts = (o: Partial<DrainOptions>): DrainOptions => ({ source: A, targets: [B], ...o });

test('parallel N moves N at a time; every container moved: drained, journal ended', async (t) => {
  const { journal, hosts } = setUp();
  const m = mover();
  const r = await execute(opts({ move: m.move, parallel: 2 }), journal, hosts, new Map());
  t.is(r.outcome, 'drained');
  t.is(m.most(), 2);
  t.deepEqual(m.moved.sort(), ['w1', 'w2', 'w3', 'w4']);
  t.true(DrainJournal.open(journal.path.replace(/\/d\.jsonl$/, ''), 'd').ended);
});

test('the first failure stops new moves (the rest: not started); --keep-going moves the others', async (t) => {
  const s1 = setUp();
  const r1 = await execute(opts({ move: mover(['w2']).move }), s1.journal, s1.hosts, new Map());
  t.is(r1.outcome, 'partial');
  t.deepEqual(r1.containers.map((c) => c.outcome), ['migrated', 'failed', 'not-started', 'not-started']);
  t.is(r1.containers[1]!.runs_on, 'source');
  t.regex(r1.stopped!, /w2 failed: w2 refused/);
  const s2 = setUp();
  const r2 = await execute(opts({ move: mover(['w2']).move, keepGoing: true }), s2.journal, s2.hosts, new Map());
  t.deepEqual(r2.containers.map((c) => c.outcome), ['migrated', 'failed', 'migrated', 'migrated']);
  t.is(r2.totals.failed, 1);
});

test('resume moves what is not done, never again what is', async (t) => {
  const s = setUp();
  await execute(opts({ move: mover(['w3']).move }), s.journal, s.hosts, new Map());
  const journal = DrainJournal.open(s.dir, 'd');
  const m = mover();
  const r = await execute(opts({ move: m.move }), journal, s.hosts, journal.moves());
  t.deepEqual(m.moved, ['w3', 'w4']);
  t.is(r.outcome, 'drained');
  t.deepEqual(r.containers.map((c) => c.outcome), ['migrated', 'migrated', 'migrated', 'migrated']);
});

test('past the deadline no move starts', async (t) => {
  const s = setUp();
  const r = await execute(opts({ move: mover([], 50).move, deadline: Date.now() + 30 }), s.journal, s.hosts, new Map());
  t.deepEqual(r.containers.map((c) => c.outcome), ['migrated', 'not-started', 'not-started', 'not-started']);
  t.regex(r.stopped!, /deadline/);
});

test('hooks: a failing --before skips its container; --after gets the report', async (t) => {
  const s = setUp(cands.slice(0, 2));
  const log = join(s.dir, 'after.log');
  const r = await execute(opts({
    move: mover().move,
    before: 'test "$MIGRATE_CONTAINER" != w2 || { echo no w2 here; exit 3; }',
    after: `echo "$MIGRATE_HOOK $MIGRATE_CONTAINER $MIGRATE_FROM $MIGRATE_TO $MIGRATE_OUTCOME $MIGRATE_FREEZE_MS $(echo "$MIGRATE_REPORT" | head -c 21)" >> ${log}`,
  }), s.journal, s.hosts, new Map());
  t.deepEqual(r.containers.map((c) => c.outcome), ['migrated', 'skipped']);
  t.regex(r.containers[1]!.reason!, /--before failed \(exit 3\): no w2 here/);
  t.is(readFileSync(log, 'utf8'), 'after w1 a b migrated 100 {"outcome":"migrated"\n');
});

test('a resume or an undrain keeps the drain\'s options but what is given again, the migration options one by one', (t) => {
  const saved: Partial<DrainOptions> = { parallel: 2, keepGoing: true, migration: { strategy: 'postcopy', pageChannel: 'direct', transferImage: true, prefetch: 'off' } };
  t.deepEqual(givenOver(saved, { parallel: undefined, migration: { tcp: 'close', prefetch: 'auto' } }), {
    parallel: 2, keepGoing: true, migration: { strategy: 'postcopy', pageChannel: 'direct', transferImage: true, prefetch: 'auto', tcp: 'close' },
  });
  t.deepEqual(givenOver(saved, { parallel: 1, migration: {} }), { ...saved, parallel: 1 });
  t.deepEqual(givenOver(saved, {}), saved);
  t.deepEqual(givenOver({}, { migration: { strategy: undefined } }), { migration: {} });
});
