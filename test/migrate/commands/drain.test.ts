import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { main } from '../../../migrate/main.js';
import { Output } from '../../../migrate/output.js';
import { formatDrain, formatPlan, parseDeadline } from '../../../migrate/commands/drain.js';
import type { DrainReport } from '../../../src/index.js';

function capture() {
  const text = { out: '', err: '' };
  const sink = (k: 'out' | 'err') => new Writable({ write(c, _e, cb) { text[k] += c; cb(); } });
  return { text, out: new Output(sink('out'), sink('err')) };
}

test('--deadline: a time, or a duration from now', (t) => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  t.is(parseDeadline('30m', now), now + 30 * 60e3);
  t.is(parseDeadline('2h', now), now + 2 * 3600e3);
  t.is(parseDeadline('2026-12-01T14:00:00Z', now), Date.parse('2026-12-01T14:00:00Z'));
  t.throws(() => parseDeadline('soon', now), { message: /Expected --deadline/ });
});

test('usage errors exit 2 before anything is reached', async (t) => {
  for (const argv of [['drain'], ['drain', 'web'], ['undrain'], ['drain', '--resume', 'x', '--to', 'ssh://b'], ['drain', '--to', 'ssh://b', '--order', 'random'], ['drain', '--to', 'ssh://b', '--parallel', '0'], ['undrain', 'x', '--to', 'ssh://b']]) {
    const { text, out } = capture();
    t.is(await main(argv, out), 2, `${argv.join(' ')}: ${text.err}`);
  }
});

test('--resume of a drain that does not exist says where journals are', async (t) => {
  process.env.MIGRATE_WORK_DIR = mkdtempSync(`${tmpdir()}/work-`);
  const { text, out } = capture();
  t.is(await main(['drain', '--resume', 'nope'], out), 2);
  t.regex(text.err, /no drain nope: .*drains\/nope\.jsonl does not exist/);
  delete process.env.MIGRATE_WORK_DIR;
});

test('the summary: one row per container, what failed and why, how to resume and undo', (t) => {
  const r: DrainReport = {
    id: 'd1', outcome: 'partial', plan: { order: 'memory', parallel: 2, moves: [], est_total_ms: 0, targets: [] },
    containers: [
      { name: 'web', from: 'local', to: 'root@b', strategy: 'cold', outcome: 'migrated', runs_on: 'target', freeze_ms: 812, est_freeze_ms: 900 },
      { name: 'db', from: 'local', to: 'root@b', strategy: 'postcopy', outcome: 'failed', runs_on: 'source', freeze_ms: null, est_freeze_ms: 1050, reason: 'preflight refused' },
    ],
    totals: { selected: 2, migrated: 1, failed: 1, skipped: 0, not_started: 0, max_freeze_ms: 812, elapsed_ms: 5000 },
  };
  const s = formatDrain(r);
  t.regex(s, /^drain d1: partial — 1 of 2 moved, 1 failed/);
  t.regex(s, /web\s+local\s+root@b\s+cold\s+812 ms\s+migrated/);
  t.regex(s, /db\s+local\s+root@b\s+postcopy\s+-\s+failed \(runs on the source\): preflight refused/);
  t.regex(s, /migrate drain --resume d1/);
  t.regex(s, /migrate undrain d1/);
});

test('the plan names the links the memory crosses: the source\'s (or this machine) and each target\'s', (t) => {
  const plan: DrainReport['plan'] = {
    order: 'memory', parallel: 1, est_total_ms: 4000,
    moves: [{ kind: 'docker', name: 'web', from: 'b', id: 'web-id', rss: 64 * 2 ** 20, to: 'local', strategy: 'cold', reason: '', est_freeze_ms: 1100, est_move_ms: 2600 }],
    targets: [{ host: 'local', throughput_mb_s: 2000, memory_free: 8 * 2 ** 30, disk_free: 2 ** 40 }],
    sources: [{ host: 'b', throughput_mb_s: 250 }],
  };
  t.regex(formatPlan(plan), /^plan \(memory first, 1 at a time; from b 250 MB\/s; local 2000 MB\/s, 8192 MiB free\): about 4\.0 s\n  container +memory/);
  t.regex(formatPlan({ ...plan, sources: [{ host: 'local', throughput_mb_s: null }] }), /from local \(this machine\); local 2000/);
  t.regex(formatPlan({ ...plan, sources: undefined }), /^plan \(memory first, 1 at a time; local 2000 MB\/s/, 'a journal from before the sources were planned');
});
