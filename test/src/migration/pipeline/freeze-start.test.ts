import test from 'ava';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../../transports/local.js';
import type { MoveContext } from '../../../../src/migration/pipeline/context.js';
import { FreezeClock } from '../../../../src/migration/pipeline/freeze-clock.js';
import { countFromCriuFreeze } from '../../../../src/migration/pipeline/freeze-start.js';
import { emptyReport } from '../../../../src/migration/report.js';

/** A freeze whose command was issued at `issued` and which resumed ~60 ms later; CRIU froze 20 ms after the command. */
async function frozen(withLog: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'freeze-start-'));
  const clock = new FreezeClock();
  clock.enter();
  clock.stopping();
  const issued = Date.now();
  if (withLog) {
    // CRIU's log: it started 5 ms after the command, began freezing 15 ms later, wrote its last line 11 ms after that.
    writeFileSync(join(dir, 'dump.log'), [
      '(00.000000) Version: 4.2.1 (gitid 0)', '(00.014000) Collecting pstree', '(00.015000) Detected cgroup V1 freezer',
      '(00.015100) Seized task 42, state 0', '(00.026000) Dumping finished successfully', '',
    ].join('\n'));
    const writtenAt = (issued + 5 + 26) / 1e3;
    utimesSync(join(dir, 'dump.log'), writtenAt, writtenAt);
  }
  await sleep(60);
  clock.resumed();
  const report = emptyReport('process-tree', 'x', 'stream');
  report.freeze_ms = clock.frozenMs();
  const c = { report, source: new LocalTransport(), workload: { stoppedByCriu: true } } as unknown as MoveContext;
  return { dir, clock, report, c, before: report.freeze_ms };
}

test('the freeze counts from CRIU\'s freeze, as its dump\'s log says, not from the command', async (t) => {
  const f = await frozen(true);
  try {
    await countFromCriuFreeze(f.c, f.dir, f.clock, Promise.resolve({ offsetMs: 0, uncertaintyMs: 0 }));
    t.is(f.report.freeze_start.from, 'criu');
    t.true(Math.abs(f.report.freeze_start.command_ms! - 20) <= 5, `command ${f.report.freeze_start.command_ms} ms before CRIU froze it (kernel timestamps are coarse)`);
    t.true(Math.abs(f.report.freeze_ms! - (f.before - 20)) <= 5, `freeze ${f.report.freeze_ms} of ${f.before} ms`);
  } finally {
    rmSync(f.dir, { recursive: true });
  }
});

test('the clock offset\'s uncertainty makes the freeze longer, never shorter', async (t) => {
  const f = await frozen(true);
  try {
    await countFromCriuFreeze(f.c, f.dir, f.clock, Promise.resolve({ offsetMs: 0, uncertaintyMs: 8 }));
    t.true(Math.abs(f.report.freeze_start.command_ms! - 12) <= 5, `${f.report.freeze_start.command_ms} ms`);
    t.is(f.report.freeze_start.uncertainty_ms, 8);
  } finally {
    rmSync(f.dir, { recursive: true });
  }
});

test('a Docker container (containerd pauses it before CRIU starts): the freeze stays counted from the command', async (t) => {
  const f = await frozen(true);
  try {
    await countFromCriuFreeze({ ...f.c, workload: { stoppedByCriu: false } } as unknown as MoveContext, f.dir, f.clock, Promise.resolve({ offsetMs: 0, uncertaintyMs: 0 }));
    t.deepEqual(f.report.freeze_start, { from: 'command' });
    t.is(f.report.freeze_ms, f.before);
  } finally {
    rmSync(f.dir, { recursive: true });
  }
});

test('without the log, or without the source\'s clock, or with an offset that puts CRIU before the command, the freeze stays counted from the command', async (t) => {
  for (const [withLog, offset] of [[false, { offsetMs: 0, uncertaintyMs: 0 }], [true, undefined], [true, { offsetMs: 5000, uncertaintyMs: 1 }]] as const) {
    const f = await frozen(withLog);
    try {
      await countFromCriuFreeze(f.c, f.dir, f.clock, Promise.resolve(offset));
      t.deepEqual(f.report.freeze_start, { from: 'command' });
      t.is(f.report.freeze_ms, f.before);
    } finally {
      rmSync(f.dir, { recursive: true });
    }
  }
});
