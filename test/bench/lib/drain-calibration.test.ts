import test from 'ava';
import { calibrate, calibrationMarkdown, fitLine, withinDrift } from '../../../bench/lib/drain-calibration.js';
import type { CellSummary } from '../../../bench/lib/matrix-report.js';
import { FIXED_FREEZE_MS, POSTCOPY_WINDOW_FACTOR } from '../../../src/drain/plan.js';

const spread = (ms: number) => ({ median: ms, min: ms, max: ms, n: 3 });

function cell(kind: 'docker' | 'tree', row: string, sizeMib: number, freezeMs: number, postcopyMs?: number): CellSummary {
  return {
    kind, sizeMib, dirtyMibS: 0, row: row as CellSummary['row'], rowName: row, runs: 3, moved: 3, verified: 3, disagreeing: 0,
    freezeMs: spread(freezeMs), ...(postcopyMs ? { postcopyMs: spread(postcopyMs) } : {}),
  };
}

test('fitLine: a least-squares line; undefined without two distinct sizes', (t) => {
  const exact = fitLine([{ x: 64, y: 1000 }, { x: 256, y: 2000 }, { x: 1024, y: 6000 }])!; // on y = 5000/960 x + 2000/3
  t.true(Math.abs(exact.slopeMsPerMib - 5000 / 960) < 1e-9 && Math.abs(exact.interceptMs - 2000 / 3) < 1e-9);
  const l = fitLine([{ x: 0, y: 0 }, { x: 1, y: 2 }, { x: 2, y: 1 }])!; // not collinear: slope 1/2, intercept 1/2
  t.true(Math.abs(l.slopeMsPerMib - 0.5) < 1e-9 && Math.abs(l.interceptMs - 0.5) < 1e-9);
  t.is(fitLine([{ x: 64, y: 1 }, { x: 64, y: 2 }]), undefined);
});

test('calibrate: cold\'s intercept and link rate, post-copy\'s median, the window factor from cells of 256 MiB and more', (t) => {
  // Cold: 800 ms + 4 ms/MiB (262 MB/s); post-copy flat; windows 2.5× the memory at 4 ms/MiB.
  const cells = [
    cell('docker', 'cold', 64, 800 + 4 * 64), cell('docker', 'cold', 256, 800 + 4 * 256), cell('docker', 'cold', 1024, 800 + 4 * 1024),
    cell('docker', 'postcopy', 64, 700, 99_999), cell('docker', 'postcopy', 256, 760, 2.5 * 4 * 256), cell('docker', 'postcopy', 1024, 720, 2.5 * 4 * 1024),
    cell('docker', 'baseline', 64, 3000),
  ];
  const [d] = calibrate(cells);
  t.is(d!.kind, 'docker');
  t.true(Math.abs(d!.cold!.measuredMs - 800) < 1e-6);
  t.true(Math.abs(d!.cold!.linkMBs - 262.144) < 1e-3);
  t.is(d!.cold!.constantMs, FIXED_FREEZE_MS.docker.cold);
  t.is(d!.postcopy!.measuredMs, 720);
  t.true(Math.abs(d!.windowFactor!.measured - 2.5) < 1e-9, 'the 64 MiB window (start-up) is left out');
  t.is(d!.windowFactor!.cells, 2);
  t.is(d!.windowFactor!.constant, POSTCOPY_WINDOW_FACTOR);
});

test('calibrationMarkdown flags a constant more than DRIFT off, and only that one', (t) => {
  const ok = FIXED_FREEZE_MS.tree.postcopy;
  const md = calibrationMarkdown([{ kind: 'tree', cold: { measuredMs: FIXED_FREEZE_MS.tree.cold * 2, constantMs: FIXED_FREEZE_MS.tree.cold, linkMBs: 240 }, postcopy: { measuredMs: ok, constantMs: ok } }]);
  t.regex(md, /cold's fixed part.*\*\*off by -50 %\*\*/);
  t.regex(md, /post-copy's freeze.*\| ok \|/);
  t.true(withinDrift(115, 100) && !withinDrift(116, 100));
  t.is(calibrationMarkdown([{ kind: 'docker' }]), '');
});
