/**
 * How long a matrix will take, printed before it starts: seconds per run (start the workload,
 * move it, check, remove it) as fixed + per-MiB cost per kind and row, fitted on runs measured
 * in this lab (see COSTS). The real duration is printed at the end and kept in the results, so
 * a drifting model shows.
 */
import type { Kind } from './matrix-subjects.js';
import type { RowId } from './matrix-rows.js';

interface Cost { fixedS: number; perMiBS: number }

/**
 * A line through two measured points per row, 2026-11-28, this 2-vCPU lab while a QEMU guest
 * took about one of its vCPUs: the quick run (64 MiB, dirty 0 and 10: docker baseline 12.5 s,
 * cold 13.0 s, postcopy 19.5 s; tree cold 5.9 s, postcopy 7.0 s) and a calibration run at
 * 1024 MiB dirty 50 (97.1, 30.6, 40.2; 20.4, 22.7 s). The dirty rate changed a run's length by
 * under 10 % at 64 MiB; 1024 MiB was calibrated at the highest rate, so the model errs long.
 * Pre-copy and hybrid have not run here (no soft-dirty): cold's and post-copy's cost plus a
 * margin for their rounds, a guess until they run where soft-dirty is.
 */
const COSTS: Record<`${Kind}:${RowId}`, Cost> = {
  'docker:baseline': { fixedS: 6.9, perMiBS: 0.088 },
  'docker:cold': { fixedS: 11.8, perMiBS: 0.0188 },
  'docker:postcopy': { fixedS: 18.1, perMiBS: 0.0214 },
  'docker:precopy': { fixedS: 15, perMiBS: 0.025 },
  'docker:hybrid': { fixedS: 20, perMiBS: 0.025 },
  'tree:baseline': { fixedS: 0, perMiBS: 0 },
  'tree:cold': { fixedS: 5.1, perMiBS: 0.0146 },
  'tree:postcopy': { fixedS: 5.9, perMiBS: 0.0167 },
  'tree:precopy': { fixedS: 8, perMiBS: 0.02 },
  'tree:hybrid': { fixedS: 8, perMiBS: 0.02 },
};

export const runSeconds = (kind: Kind, row: RowId, mib: number): number => {
  const c = COSTS[`${kind}:${row}`];
  return c.fixedS + c.perMiBS * mib;
};

/** Connecting, host facts, writing results: outside the runs. */
export const OVERHEAD_S = 15;
/** The pipeline micro-benchmark (bench/pipeline.ts) at its defaults. */
export const PIPELINE_S = 60;
