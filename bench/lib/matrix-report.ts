/**
 * The matrix's results: per (size, dirty rate, kind, row) the spread of every figure over its
 * runs, the ratio to Docker's workflow measured in the same run, and the notes a reader needs —
 * above all where the controller's freeze and the workload's own view disagree, run by run.
 */
import { calibrate, calibrationMarkdown } from './drain-calibration.js';
import { DASH, cell, sec, spreadCells, spreadText } from './format.js';
import type { HostFacts } from './host-facts.js';
import type { ChartPoint } from './freeze-chart.js';
import type { Kind } from './matrix-subjects.js';
import type { RowId } from './matrix-rows.js';
import { describe, troubled, verified, type RunRecord } from './matrix-run.js';
import { measured, median, spreadOf, type Spread } from './stats.js';

/**
 * "They must agree within a few milliseconds": beyond this the workload's view and the
 * controller's freeze disagree, and the run is listed.
 */
export const DISAGREE_MS = 5;

export interface Plan {
  kinds: Kind[]; sizes: number[]; dirty: number[]; runs: number; quick: boolean; pipeline: boolean;
  /** Dirty rates at which the Docker baseline runs (all when absent); other rates compare with the lowest of these. */
  baselineDirty?: number[];
}

export interface PlannedRow { id: RowId; kind: Kind; name: string; notMeasured?: string }

export interface CellSummary {
  kind: Kind; sizeMib: number; dirtyMibS: number; row: RowId; rowName: string;
  /** How migrate moved it, from its reports: page transport and restore mode. */
  mode?: string;
  runs: number; moved: number; verified: number;
  freezeMs?: Spread; viewMs?: Spread; viewMinusControllerMs?: Spread; totalMs?: Spread;
  wireBytes?: Spread; postcopyMs?: Spread; fillMs?: Spread; runMs?: Spread;
  /** Median freeze / the Docker baseline's median freeze, same size and dirty rate, this run. */
  ratio?: number;
  viewRatio?: number;
  /** Verified runs whose view and controller differ by more than DISAGREE_MS. */
  disagreeing: number;
}

export interface MatrixMeta extends HostFacts {
  command: string;
  quick: boolean;
  plan: Plan;
  rows: PlannedRow[];
  estimatedSeconds: number;
  /** The pipeline micro-benchmark's PASS/FAIL line when it ran with the matrix. */
  pipelineVerdict?: string;
  /** Its error when it failed (the matrix still ran; the exit code is 1). */
  pipelineError?: Record<string, unknown>;
  tookSeconds: number;
  loadavgBefore: string;
  loadavgAfter: string;
  workload: string;
}

const nums = (rs: RunRecord[], f: (r: RunRecord) => number | undefined): number[] => measured(rs.map(f));

export function summarize(records: RunRecord[], plan: Plan, rows: PlannedRow[]): CellSummary[] {
  const cells: CellSummary[] = [];
  for (const mib of plan.sizes) {
    for (const dirty of plan.dirty) {
      const runsOf = (kind: Kind, row: RowId) => records.filter((r) => r.kind === kind && r.sizeMib === mib && r.dirtyMibS === dirty && r.row === row);
      // Figures come from verified runs only: a move whose ticks did not go on is a bug, not a data point (it is listed).
      const figures = (rs: RunRecord[]) => rs.filter(verified);
      // The baseline is stop-and-copy: its freeze does not depend on the dirty rate (the memory only
      // changes while the container runs). Where it was not run at this rate, the lowest measured rate stands in.
      const baseDirty = plan.baselineDirty && !plan.baselineDirty.includes(dirty) ? Math.min(...plan.baselineDirty) : dirty;
      const base = figures(records.filter((r) => r.kind === 'docker' && r.sizeMib === mib && r.dirtyMibS === baseDirty && r.row === 'baseline'));
      const baseFreeze = base.length ? median(nums(base, (r) => r.freeze_ms)) : undefined;
      const baseView = base.length ? median(nums(base, (r) => r.view?.maxGapMs)) : undefined;
      for (const kind of plan.kinds) {
        for (const row of rows.filter((x) => x.kind === kind && !x.notMeasured)) {
          const all = runsOf(kind, row.id);
          const ok = figures(all);
          const freeze = spreadOf(nums(ok, (r) => r.freeze_ms));
          const view = spreadOf(nums(ok, (r) => r.view?.maxGapMs));
          const modes = [...new Set(all.flatMap((r) => (r.report ? [`${r.report.pages}, ${r.report.restore} restore`] : [])))];
          cells.push({
            kind, sizeMib: mib, dirtyMibS: dirty, row: row.id, rowName: row.name, ...(modes.length ? { mode: modes.join(' / ') } : {}),
            runs: all.length, moved: all.filter((r) => r.moved).length, verified: all.filter(verified).length,
            freezeMs: freeze, viewMs: view, viewMinusControllerMs: spreadOf(nums(ok, (r) => r.viewMinusControllerMs)),
            totalMs: spreadOf(nums(ok, (r) => r.total_ms)), wireBytes: spreadOf(nums(ok, (r) => r.bytes?.wire)),
            postcopyMs: spreadOf(nums(ok, (r) => r.postcopy_ms)), fillMs: spreadOf(nums(ok, (r) => r.fill_ms)), runMs: spreadOf(all.map((r) => r.run_ms)),
            ...(freeze && baseFreeze ? { ratio: freeze.median / baseFreeze } : {}),
            ...(view && baseView ? { viewRatio: view.median / baseView } : {}),
            disagreeing: ok.filter((r) => Math.abs(r.viewMinusControllerMs ?? 0) > DISAGREE_MS).length,
          });
        }
      }
    }
  }
  return cells;
}

const signed = (ms: number): string => `${ms > 0 ? '+' : ''}${Math.round(ms)}`;
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const ratioText = (c: CellSummary): string => {
  if (c.row === 'baseline') return '1';
  return c.ratio === undefined ? DASH : `${c.ratio.toFixed(3)} (1/${(1 / c.ratio).toFixed(1)})`;
};
const median1 = (s: Spread | undefined, f: (x: number) => string): string => (s ? f(s.median) : DASH);

export function table(cells: CellSummary[]): string {
  const lines = [
    '| Size MiB | Dirty MiB/s | Kind | Row | Verified / runs | Freeze median s | Min s | Max s | Median vs Docker baseline | Workload view median s | View − controller ms: median (min…max) | Total median s | Wire MiB median | Post-copy window median s | Lazy fill median s |',
    '|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of cells) {
    const row = c.mode ? `${c.rowName} (${c.mode})` : c.rowName;
    lines.push(`| ${c.sizeMib} | ${c.dirtyMibS} | ${c.kind} | ${cell(row)} | ${c.verified} / ${c.runs} | ${spreadCells(c.freezeMs)} | ${ratioText(c)} | ${median1(c.viewMs, sec)} | `
      + `${spreadText(c.viewMinusControllerMs, signed)} | ${median1(c.totalMs, sec)} | ${median1(c.wireBytes, mib)} | ${median1(c.postcopyMs, sec)} | ${median1(c.fillMs, sec)} |`);
  }
  return lines.join('\n');
}

/** Time each run took, start to removal: what the duration estimate rests on. */
function durations(cells: CellSummary[]): string {
  const lines = ['| Kind | Row | Size MiB | Dirty MiB/s | Run median s (min…max) |', '|---|---|---:|---:|---:|'];
  for (const c of cells) lines.push(`| ${c.kind} | ${cell(c.rowName)} | ${c.sizeMib} | ${c.dirtyMibS} | ${spreadText(c.runMs, (ms) => (ms / 1e3).toFixed(1))} |`);
  return lines.join('\n');
}

function disagreements(cells: CellSummary[], records: RunRecord[]): string {
  const measured = records.filter((r) => r.viewMinusControllerMs !== undefined);
  const off = measured.filter((r) => Math.abs(r.viewMinusControllerMs!) > DISAGREE_MS);
  const head = `**Controller vs workload.** The issue asks that both agree within a few milliseconds (here: ${DISAGREE_MS} ms). `
    + `${off.length} of ${measured.length} measured runs disagree by more than that`;
  if (!off.length) return `${head}.`;
  const longer = off.filter((r) => r.viewMinusControllerMs! < 0).length;
  const lines = [
    `${head}: in ${longer} the controller's freeze is longer than the workload's largest gap, in ${off.length - longer} the workload saw a longer stop than the controller measured. `
      + 'Where the difference lies, from the controller\'s freeze start and end set against the tick timestamps (same clock): '
      + '*before* = how long the workload still ticked on A after the controller\'s freeze had started (the checkpoint command had not frozen it yet); '
      + '*after* = how long the controller\'s freeze went on after the workload\'s first tick on B (the restore command, and the check that it runs, had not returned yet); '
      + '*max gap elsewhere* = runs whose largest gap is not the A → B boundary.',
    '',
    '| Size MiB | Dirty MiB/s | Kind | Row | Runs over ' + DISAGREE_MS + ' ms / measured | View − controller ms: median (min…max) | Before ms: median (min…max) | After ms: median (min…max) | Max gap elsewhere |',
    '|---:|---:|---|---|---|---:|---:|---:|---:|',
  ];
  for (const c of cells) {
    const mine = measured.filter((r) => r.kind === c.kind && r.sizeMib === c.sizeMib && r.dirtyMibS === c.dirtyMibS && r.row === c.row);
    const over = mine.filter((r) => Math.abs(r.viewMinusControllerMs!) > DISAGREE_MS).length;
    if (!over) continue;
    const diff = spreadOf(nums(mine, (r) => r.viewMinusControllerMs));
    const before = spreadOf(nums(mine, (r) => r.controllerVsTicks?.beforeMs));
    const after = spreadOf(nums(mine, (r) => r.controllerVsTicks?.afterMs));
    const elsewhere = mine.filter((r) => r.view!.maxGapMs > r.view!.boundaryGapMs).length;
    lines.push(`| ${c.sizeMib} | ${c.dirtyMibS} | ${c.kind} | ${cell(c.rowName)} | ${over} / ${mine.length} | ${spreadText(diff, signed)} | `
      + `${spreadText(before, signed)} | ${spreadText(after, signed)} | ${elsewhere} |`);
  }
  return lines.join('\n');
}

function howMeasured(m: MatrixMeta): string {
  return [
    `Plan: kinds ${m.plan.kinds.join(', ')}; sizes ${m.plan.sizes.join(', ')} MiB; dirty rates ${m.plan.dirty.join(', ')} MiB/s; ${m.plan.runs} run(s) per cell, round-robin over the rows (and kinds) of each size and dirty rate. `
      + `Estimated ${(m.estimatedSeconds / 60).toFixed(1)} min, took ${(m.tookSeconds / 60).toFixed(1)} min. Load average before/after: ${m.loadavgBefore} / ${m.loadavgAfter}.`,
    '',
    `Workload: \`${m.workload}\` (memload, lab/workload/memload.c), a fresh one per run on host A (local), moved to host B (SSH) once it printed 5 ticks, then removed from both. `
      + 'Docker rows move it as a container; tree rows as a process tree in its own PID namespace (`unshare --pid --fork setsid`) writing to a file both hosts see.',
    '',
    '- **Freeze** (controller): migrate\'s report `freeze_ms` (start of the checkpoint until B reports the workload running); for the baseline, just before `docker checkpoint create` until `docker inspect` on B says running.',
    '- **Workload view**: the largest gap between consecutive `tick <n> <CLOCK_REALTIME µs>` lines (1 ms period) across A\'s and B\'s output (`docker logs` on each host; for a tree, the one file split where migrate\'s restore step started). Both lab hosts share one clock. **View − controller**: per run, the workload\'s gap minus the controller\'s freeze.',
    '- **Verified**: the first tick on B is the last tick on A + 1 and both outputs are continuous.',
    '- **Total**: wall clock of the whole migrate call (preflight to the end of post-copy or lazy fill, and removing the source copy); for the baseline, from `docker create` on B to running there.',
    '- **Wire**: the report\'s `bytes.wire` (compressed stream plus page-server pages as sent into SSH); for the baseline, the bytes `tar | zstd -1` produced (counted after the run on the same checkpoint).',
    '- **Post-copy window**: the report\'s `postcopy_ms` (restore until the last page arrived from A). **Lazy fill**: `phases_ms.fill` (cold with lazy restore: after the freeze until the last page was in place on B).',
    '- **Median vs Docker baseline**: the row\'s median freeze / the Docker baseline\'s median freeze at the same size and dirty rate, measured in this same run. Tree rows are compared with the Docker baseline too: there is no Docker workflow for a bare process tree, so their ratio is against moving the same memload as a container.'
      + (m.plan.baselineDirty ? ` The baseline ran at dirty rate${m.plan.baselineDirty.length > 1 ? 's' : ''} ${m.plan.baselineDirty.join(', ')} MiB/s only (it is stop-and-copy: its freeze does not depend on how fast the memory changed before it); other rates are compared with the baseline at ${Math.min(...m.plan.baselineDirty)} MiB/s.` : ''),
  ].join('\n');
}

export function markdown(m: MatrixMeta, facts: string, cells: CellSummary[], records: RunRecord[]): string {
  const title = `# Migration matrix: freeze time by workload, size, dirty rate and strategy${m.quick ? ' — QUICK SMOKE RUN (not the full matrix)' : ''}`;
  const quick = m.quick ? '\n**Quick smoke run** (`--quick`): a check that every row works end to end, one run per cell; a full `npm run bench` overwrites these files.\n' : '';
  const failed = records.filter(troubled);
  const notMeasured = m.rows.filter((r) => r.notMeasured);
  const notes = [
    disagreements(cells, records),
    m.pipelineVerdict ? `**Pipeline micro-benchmark**, run before this matrix (pipeline.md holds the latest pipeline run): ${m.pipelineVerdict}.` : '',
    m.pipelineError ? `**Pipeline micro-benchmark FAILED**: ${String(m.pipelineError.message).split('\n')[0]} (the error is in the JSON).` : '',
    notMeasured.length ? `**Not measured**: ${notMeasured.map((r) => `${r.kind} ${r.name} — ${r.notMeasured!.split('\n')[0]}`).join('; ')}.` : '',
    calibrationMarkdown(calibrate(cells)),
    failed.length ? `**Runs that failed, did not verify or were not removed** (${failed.length}; in the JSON with their error; runs that did not move or verify are left out of the figures):\n\n${failed.map((r) => `- ${describe(r)}`).join('\n')}` : '**Every run moved and verified.**',
  ].filter(Boolean);
  return [title, quick, facts, howMeasured(m), '', table(cells), '', ...notes.flatMap((n) => [n, '']), '### Time per run', '', durations(cells), ''].join('\n');
}

export function chartPoints(cells: CellSummary[]): ChartPoint[] {
  return cells.filter((c) => c.freezeMs).map((c) => ({
    series: `${c.kind}: ${c.rowName}`, kind: c.kind, sizeMib: c.sizeMib, dirtyMibS: c.dirtyMibS,
    median: c.freezeMs!.median / 1e3, min: c.freezeMs!.min / 1e3, max: c.freezeMs!.max / 1e3,
  }));
}
