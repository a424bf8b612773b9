import test from 'ava';
import { splitFreeze, type FreezeTimeline } from '../../../bench/lib/freeze-split.js';
import type { Call } from '../../../bench/lib/timed-transport.js';

const A = 'local';
const B = 'root@b';

/** A run on one clock, ms from the checkpoint command's issue. */
function timeline(): FreezeTimeline {
  const calls: Call[] = [
    { host: A, how: 'exec', what: 'docker checkpoint create', argv: ['docker', 'checkpoint', 'create', '--leave-running', 'c', 'cp'], start: 0 },
    { host: A, how: 'spawn', what: 'wait-listening', start: 2, end: 330, exitCode: 0 },
    { host: B, how: 'spawn', what: 'receive-tar', start: 331, end: 350, exitCode: 0 },
    { host: B, how: 'spawn', what: 'criu lazy-pages -D', argv: ['criu', 'lazy-pages', '-D', '/x', '--status-fd', '1'], start: 352, ready: 400 },
    { host: B, how: 'exec', what: 'write-file', start: 400, end: 405, exitCode: 0 },
    { host: B, how: 'exec', what: 'docker start --checkpoint', argv: ['docker', 'start', '--checkpoint', 'cp', 'c'], start: 420, end: 1100, exitCode: 0 },
  ];
  return { commandMs: 248, freezeMs: 882, lastTickA: 250, firstTickB: 1120, calls, source: A, target: B };
}

test('the freeze is cut where the commands and ticks say, and the pieces add up to the workload\'s freeze', (t) => {
  const s = splitFreeze(timeline());
  t.deepEqual(s, {
    workloadMs: 870, reportMinusWorkloadMs: 12, reportStartMinusLastTickMs: -2, notFrozenMs: 250, dumpMs: 80, betweenMs: 90, daemonMs: 48,
    restoreCommandMs: 680, resumeMs: 20, handOverMs: 30, firstFaultsMs: -10, migrateMaxMs: 90 - 48 + 20,
  });
  t.is(s.dumpMs + s.betweenMs + s.restoreCommandMs + s.resumeMs, s.workloadMs);
});

test('a workload that ticked before the restore command returned: no negative resume in migrate\'s share', (t) => {
  const s = splitFreeze({ ...timeline(), firstTickB: 1090 });
  t.is(s.resumeMs, -10);
  t.is(s.migrateMaxMs, 90 - 48);
});

test('post-copy\'s first faults after the hand-over are not migrate\'s hand-over', (t) => {
  const s = splitFreeze({ ...timeline(), firstTickB: 1180 });
  t.is(s.handOverMs, 30);
  t.is(s.firstFaultsMs, 50);
  t.is(s.migrateMaxMs, 90 - 48 + 30);
});

test('a daemon that starts beside migrate\'s preparations hides them: only the time outside it is migrate\'s', (t) => {
  const tl = timeline();
  const calls = tl.calls.map((c) => (c.what === 'criu lazy-pages -D' ? { ...c, start: 331, ready: 415 } : c));
  const s = splitFreeze({ ...tl, calls });
  t.is(s.daemonMs, 415 - 331);
  t.is(s.migrateMaxMs, 90 - 84 + 20);
  // A daemon ready after the restore command started is clipped to `between`.
  t.is(splitFreeze({ ...tl, calls: calls.map((c) => (c.ready ? { ...c, ready: 500 } : c)) }).daemonMs, 420 - 331);
});

test('a timeline without the commands it is cut at says what is missing', (t) => {
  const tl = timeline();
  t.throws(() => splitFreeze({ ...tl, calls: tl.calls.filter((c) => c.what !== 'docker start --checkpoint') }), { message: /no docker start --checkpoint/ });
  t.throws(() => splitFreeze({ ...tl, calls: tl.calls.filter((c) => c.what !== 'docker checkpoint create') }), { message: /no docker checkpoint create/ });
  t.throws(() => splitFreeze({ ...tl, calls: tl.calls.filter((c) => c.what !== 'wait-listening') }), { message: /page server/ });
  t.throws(() => splitFreeze({ ...tl, calls: tl.calls.map(({ ready: _, ...c }) => c) }), { message: /never said it was ready/ });
});
