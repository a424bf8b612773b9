import test from 'ava';
import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DrainJournal, isDrainId, newDrainId } from '../../../src/drain/journal.js';
import { planDrain } from '../../../src/drain/plan.js';

const header = (id: string) => ({ id, from: 'a', to: ['b'], hosts: { a: 'local', b: 'ssh://root@b' }, plan: planDrain([], []), options: { parallel: 2 } });

test('a journal is private, one fsynced JSON line per step, and reads back as each container\'s last attempt', (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'journal-')), 'drains');
  const j = DrainJournal.create(dir, header('d1'));
  t.is(statSync(dir).mode & 0o777, 0o700);
  t.is(statSync(j.path).mode & 0o777, 0o600);
  j.start('web', 'id-web', 'a', 'b');
  j.done({ name: 'web', outcome: 'failed', runs_on: 'source', to: 'b', freeze_ms: null, reason: 'x' });
  j.start('web', 'id-web', 'a', 'b'); // resumed: tried again
  j.start('db', 'id-db', 'a', 'b');
  j.done({ name: 'db', outcome: 'migrated', runs_on: 'target', to: 'b', freeze_ms: 900 });
  t.is(readFileSync(j.path, 'utf8').trim().split('\n').length, 6);
  const again = DrainJournal.open(dir, 'd1');
  t.deepEqual(again.header.hosts, { a: 'local', b: 'ssh://root@b' });
  const moves = again.moves();
  t.truthy(moves.get('web')!.started);
  t.is(moves.get('web')!.done, undefined, 'the retry is in flight');
  t.is(moves.get('db')!.done!.outcome, 'migrated');
  t.false(again.ended);
  again.end('drained');
  t.true(DrainJournal.open(dir, 'd1').ended);
});

test('a line cut short by a crash is ignored; damage elsewhere, an unknown ID or an existing one is refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const j = DrainJournal.create(dir, header('d2'));
  j.start('web', 'id', 'a', 'b');
  appendFileSync(j.path, '{"type":"done","na');
  t.truthy(DrainJournal.open(dir, 'd2').moves().get('web')!.started);
  appendFileSync(j.path, '\n{"type":"start","name":"x"}\n');
  t.throws(() => DrainJournal.open(dir, 'd2'), { message: /damaged at line 3/ });
  t.throws(() => DrainJournal.open(dir, 'nope'), { message: /no drain nope/ });
  t.throws(() => DrainJournal.open(dir, '../etc/passwd'), { message: /Expected a drain ID/ });
  t.throws(() => DrainJournal.create(dir, header('d2')), { message: /drain d2 already exists/ });
});

test('drain IDs sort by time and are safe file names', (t) => {
  const id = newDrainId(new Date('2026-12-01T13:02:03Z'));
  t.regex(id, /^20261201-1302-[0-9a-f]{6}$/);
  t.true(isDrainId(id));
});
