/**
 * The freeze as the workload saw it: memload prints `tick <n> <CLOCK_REALTIME µs>` every tick,
 * on A until it is frozen and on B once it runs there. Both "hosts" of the lab share one clock,
 * so the largest gap between consecutive ticks across both outputs is how long the workload
 * could not run, whatever the controller measured.
 */
import { continuous, type Tick } from './memload.js';
import { fail } from './fail.js';

export interface WorkloadView {
  ticksA: number;
  ticksB: number;
  lastTickA: number;
  firstTickB: number;
  /** Their CLOCK_REALTIME timestamps (µs). */
  lastTickAUs: number;
  firstTickBUs: number;
  /** Both outputs are continuous and the first tick on B is the last tick on A + 1. */
  continues: boolean;
  /** Largest gap between consecutive ticks across A's and B's output. */
  maxGapMs: number;
  /** Last tick on A → first tick on B (the max gap can also lie on B, while its memory fills in). */
  boundaryGapMs: number;
}

export function workloadView(onA: Tick[], onB: Tick[]): WorkloadView {
  const last = onA[onA.length - 1] ?? fail('no ticks on A');
  const first = onB[0] ?? fail('no ticks on B');
  const all = [...onA, ...onB];
  const maxGapUs = Math.max(...all.slice(1).map((x, i) => x.us - all[i]!.us));
  return {
    ticksA: onA.length, ticksB: onB.length, lastTickA: last.n, firstTickB: first.n, lastTickAUs: last.us, firstTickBUs: first.us,
    continues: continuous(onA) && continuous(onB) && first.n === last.n + 1,
    maxGapMs: maxGapUs / 1e3, boundaryGapMs: (first.us - last.us) / 1e3,
  };
}
