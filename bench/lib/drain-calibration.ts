/**
 * Drain's estimates (src/drain/plan.ts) against a matrix run: the constants are measured in this
 * lab, and nothing else checks them. From the matrix's cells, per kind:
 * - cold's fixed part: the intercept of a least-squares line of freeze over size (the slope is the
 *   link's rate, which a drain measures itself);
 * - post-copy's fixed part: the median of the post-copy cells' median freezes (flat in size);
 * - the window factor: each post-copy cell's window against its memory at the rate of cold's
 *   slope, median over the cells of 256 MiB and more (at 64 MiB the window is mostly start-up).
 * The matrix writes the comparison into its Markdown; a constant further off than DRIFT is
 * flagged, so a re-run that moved shows which constant to re-calibrate.
 */
import { FIXED_FREEZE_MS, POSTCOPY_WINDOW_FACTOR } from '../../src/drain/plan.js';
import type { CellSummary } from './matrix-report.js';
import type { Kind } from './matrix-subjects.js';
import { median } from './stats.js';

/** How far (as a fraction of the measured value) a constant may be off before it is flagged. */
export const DRIFT = 0.15;

export interface Line { interceptMs: number; slopeMsPerMib: number }

/** Least-squares line through (x, y); undefined for fewer than two distinct x. */
export function fitLine(points: ReadonlyArray<{ x: number; y: number }>): Line | undefined {
  const n = points.length;
  if (new Set(points.map((p) => p.x)).size < 2) return undefined;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const slope = sxy / sxx;
  return { interceptMs: my - slope * mx, slopeMsPerMib: slope };
}

export interface Calibration {
  kind: Kind;
  cold?: { measuredMs: number; constantMs: number; linkMBs: number };
  postcopy?: { measuredMs: number; constantMs: number };
  windowFactor?: { measured: number; constant: number; cells: number };
}

const cellsOf = (cells: readonly CellSummary[], kind: Kind, row: string) => cells.filter((c) => c.kind === kind && c.row === row && c.freezeMs);

export function calibrate(cells: readonly CellSummary[]): Calibration[] {
  const kinds = [...new Set(cells.map((c) => c.kind))];
  return kinds.map((kind) => {
    const out: Calibration = { kind };
    const line = fitLine(cellsOf(cells, kind, 'cold').map((c) => ({ x: c.sizeMib, y: c.freezeMs!.median })));
    if (line) out.cold = { measuredMs: line.interceptMs, constantMs: FIXED_FREEZE_MS[kind].cold, linkMBs: 2 ** 20 / 1e6 / (line.slopeMsPerMib / 1e3) };
    const post = cellsOf(cells, kind, 'postcopy');
    if (post.length) out.postcopy = { measuredMs: median(post.map((c) => c.freezeMs!.median)), constantMs: FIXED_FREEZE_MS[kind].postcopy };
    if (line && line.slopeMsPerMib > 0) {
      const factors = post.filter((c) => c.sizeMib >= 256 && c.postcopyMs).map((c) => c.postcopyMs!.median / (c.sizeMib * line.slopeMsPerMib));
      if (factors.length) out.windowFactor = { measured: median(factors), constant: POSTCOPY_WINDOW_FACTOR, cells: factors.length };
    }
    return out;
  });
}

/** Whether a constant is within DRIFT of what was measured. */
export const withinDrift = (constant: number, measured: number): boolean => Math.abs(constant - measured) <= DRIFT * Math.abs(measured);

export function calibrationMarkdown(cal: readonly Calibration[]): string {
  const verdict = (constant: number, measured: number) => (withinDrift(constant, measured) ? 'ok' : `**off by ${Math.round((constant / measured - 1) * 100)} %**`);
  const rows: string[] = [];
  for (const c of cal) {
    if (c.cold) rows.push(`| ${c.kind} | cold's fixed part (ms): intercept of freeze over size; slope ${c.cold.linkMBs.toFixed(0)} MB/s | ${c.cold.constantMs} | ${Math.round(c.cold.measuredMs)} | ${verdict(c.cold.constantMs, c.cold.measuredMs)} |`);
    if (c.postcopy) rows.push(`| ${c.kind} | post-copy's freeze (ms): median of the cells | ${c.postcopy.constantMs} | ${Math.round(c.postcopy.measuredMs)} | ${verdict(c.postcopy.constantMs, c.postcopy.measuredMs)} |`);
    if (c.windowFactor) rows.push(`| ${c.kind} | post-copy window / memory at cold's slope (${c.windowFactor.cells} cells ≥ 256 MiB) | ${c.windowFactor.constant} | ${c.windowFactor.measured.toFixed(2)} | ${verdict(c.windowFactor.constant, c.windowFactor.measured)} |`);
  }
  if (!rows.length) return '';
  return [
    '### Drain\'s estimates against this run',
    '',
    `\`migrate drain\` estimates each freeze from constants measured in this lab (\`src/drain/plan.ts\`: \`FIXED_FREEZE_MS\`, \`POSTCOPY_WINDOW_FACTOR\`). This run's figures for them (bench/lib/drain-calibration.ts); "off" means more than ${DRIFT * 100} % from what this run measured: re-calibrate from this file. Pre-copy's and hybrid's constants are derived from these (no soft-dirty tracking here).`,
    '',
    '| kind | figure | in plan.ts | this run | |',
    '|---|---|---:|---:|---|',
    ...rows,
  ].join('\n');
}
