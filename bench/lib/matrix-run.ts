/**
 * One run of the matrix: a fresh workload on A, a few ticks, the move, ticks on B, the workload's
 * view, removal from both hosts. Nothing is swallowed: whatever fails is the run's `error`.
 */
import { errorJson, type MigrationReport } from '../../src/index.js';
import type { BaselineHosts } from './docker-baseline.js';
import { loadavg } from './host-facts.js';
import { startSubject, waitOnB, type Case, type Kind, type Subject } from './matrix-subjects.js';
import { MoveFailed, type Row, type RowId } from './matrix-rows.js';
import { workloadView, type WorkloadView } from './workload-view.js';
import { round1 } from './stats.js';

export interface RunRecord {
  kind: Kind;
  sizeMib: number;
  dirtyMibS: number;
  row: RowId;
  rowName: string;
  run: number;
  /** Container name or `pid N` on A. */
  workload?: string;
  started: string;
  loadavg: string;
  /** The whole run: start, move, checks, removal (what the duration estimate is made of). */
  run_ms: number;
  moved: boolean;
  freeze_ms?: number;
  total_ms?: number;
  phases_ms?: Record<string, number>;
  bytes?: { raw: number; wire?: number };
  postcopy_ms?: number;
  fill_ms?: number;
  view?: WorkloadView;
  /** The workload's largest tick gap minus the controller's freeze (negative: the controller counted more). */
  viewMinusControllerMs?: number;
  /**
   * Where a disagreement lies. before: how long the workload still ticked on A after the
   * controller's freeze had started; after: how long the controller's freeze went on after the
   * workload's first tick on B. before + after ≈ controller − (last tick on A → first tick on B).
   */
  controllerVsTicks?: { beforeMs: number; afterMs: number };
  report?: MigrationReport;
  error?: Record<string, unknown>;
  /** Removing the workload from the hosts failed: the figures stand, the run is listed and the exit code is 1. */
  cleanupError?: Record<string, unknown>;
}

/** A run counts when the workload moved and its ticks went on with the next number on B. */
export const verified = (r: RunRecord): boolean => r.moved && r.view?.continues === true;

/** Whatever went wrong in a run: it is listed in the results and makes the exit code 1. */
export const troubled = (r: RunRecord): boolean => !verified(r) || r.cleanupError !== undefined;

let seq = 0;

export async function runOnce(h: BaselineHosts, row: Row, c: Case, run: number): Promise<RunRecord> {
  const t0 = performance.now();
  const rec: RunRecord = {
    kind: c.kind, sizeMib: c.mib, dirtyMibS: c.dirty, row: row.id, rowName: row.name, run,
    started: new Date().toISOString(), loadavg: loadavg(), run_ms: 0, moved: false,
  };
  let subject: Subject | undefined;
  try {
    subject = await startSubject(h, c, ++seq);
    rec.workload = subject.label;
    const move = await row.move(h, subject);
    Object.assign(rec, move, { moved: true });
    await waitOnB(subject);
    rec.view = workloadView(await subject.ticksA(), await subject.ticksB());
    rec.viewMinusControllerMs = round1(rec.view.maxGapMs - move.freeze_ms);
    if (move.freezeStartedAt !== undefined) {
      rec.controllerVsTicks = {
        beforeMs: round1(rec.view.lastTickAUs / 1e3 - move.freezeStartedAt),
        afterMs: round1(move.freezeStartedAt + move.freeze_ms - rec.view.firstTickBUs / 1e3),
      };
    }
  } catch (e) {
    if (e instanceof MoveFailed) rec.report = e.report;
    rec.error = errorJson(e);
  } finally {
    try {
      await subject?.remove();
    } catch (e) {
      rec.cleanupError = errorJson(e);
    }
    rec.run_ms = Math.round(performance.now() - t0);
  }
  return rec;
}

export function describe(r: RunRecord): string {
  const head = `${r.kind} ${r.sizeMib} MiB dirty ${r.dirtyMibS} MiB/s run ${r.run} ${r.rowName}:`;
  const cleanup = r.cleanupError ? `; REMOVING IT FAILED: ${String(r.cleanupError.message).split('\n')[0]}` : '';
  if (!r.moved || !r.view) return `${head} FAILED ${String(r.error?.message ?? '').split('\n')[0]}${cleanup}`;
  const v = r.view;
  return `${head} freeze ${r.freeze_ms} ms, workload's gap ${v.maxGapMs} ms (${r.viewMinusControllerMs! >= 0 ? '+' : ''}${r.viewMinusControllerMs} ms), `
    + `total ${r.total_ms} ms; ticks ${v.continues ? 'continue' : 'DO NOT continue'} (${v.lastTickA} → ${v.firstTickB}); run took ${(r.run_ms / 1e3).toFixed(1)} s${cleanup}`;
}
