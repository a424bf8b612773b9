/** How the CLI shows progress on stderr: plain lines, JSON lines, or a live bar on a terminal; stdout stays clean. */
import test from 'ava';
import { PassThrough } from 'node:stream';
import { Output } from '../../migrate/output.js';
import { progressCounter } from '../../src/progress.js';
import type { MigrateEvent } from '../../src/index.js';

function streams(tty = false) {
  const out = new PassThrough();
  const err = Object.assign(new PassThrough(), { isTTY: tty, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let stdout = '';
  let stderr = '';
  out.on('data', (b: Buffer) => (stdout += b));
  err.on('data', (b: Buffer) => (stderr += b));
  return { out, err, text: () => ({ stdout, stderr }) };
}

const MIB = 2 ** 20;
const transfer = (bytes: number, done = false): MigrateEvent => ({ kind: 'progress', what: 'transfer', host: 'b', bytes, total: 8 * MIB, ...(done ? { done } : {}) });

test('plain (not a terminal): a line per quarter, the last one saying done; stdout untouched', (t) => {
  const s = streams();
  const o = new Output(s.out, s.err);
  for (let i = 1; i <= 16; i++) o.event(transfer(i * MIB / 2, i === 16));
  const lines = s.text().stderr.trim().split('\n');
  t.is(lines.length, 4, lines.join('\n'));
  t.regex(lines[0]!, /^migrate: images: 2\.0 MiB of 8\.0 MiB \(25 %\), \d+ MB\/s$/);
  t.regex(lines[3]!, /8\.0 MiB of 8\.0 MiB \(100 %\), \d+ MB\/s, done$/);
  t.is(s.text().stdout, '');
});

test('--progress json: every event one JSON line on stderr, warnings too', (t) => {
  const s = streams();
  const o = new Output(s.out, s.err);
  o.progressMode = 'json';
  o.event({ kind: 'step', step: 'transfer', host: 'b' });
  o.event(transfer(MIB));
  o.warn('interrupted (SIGTERM)');
  const lines = s.text().stderr.trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(lines, [{ event: 'step', step: 'transfer', host: 'b' }, { event: 'progress', what: 'transfer', host: 'b', bytes: MIB, total: 8 * MIB }, { event: 'warning', message: 'interrupted (SIGTERM)' }]);
});

test('a terminal: a live bar with bytes, rate and ETA, ended before the next line', (t) => {
  const s = streams(true);
  const o = new Output(s.out, s.err);
  o.event(transfer(2 * MIB));
  o.event(transfer(8 * MIB, true));
  o.event({ kind: 'step', step: 'restore', host: 'b' });
  const { stderr } = s.text();
  t.regex(stderr, /migrate: images \[[█░]+\] 8\.0 of 8\.0 MiB, \d+ MB\/s, ETA/);
  t.regex(stderr, /\nmigrate: restore \(b\)\n$/);
});

test('the library\'s counter: an event at most every 250 ms while bytes flow, and one at the end', (t) => {
  const events: MigrateEvent[] = [];
  const c = progressCounter((e) => events.push(e), 'postcopy', { total: 100 });
  for (let i = 0; i < 1000; i++) c.add(1);
  c.end();
  c.end();
  t.true(events.length <= 3, `${events.length} events`);
  t.deepEqual(events[events.length - 1], { kind: 'progress', what: 'postcopy', bytes: 1000, total: 100, done: true });
});
