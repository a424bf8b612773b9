/**
 * When to stop pre-copying and freeze. Pure: decided from the statistics of the rounds so far,
 * so it is unit-tested on recorded rounds.
 *
 * After each pre-dump round, in this order:
 *  1. `downtime`: the predicted final freeze — the pages the next dump would write (estimated as
 *     the last round's) ÷ the measured throughput + the measured fixed costs — is within
 *     `downtimeTargetMs`: freeze now, waiting cannot buy much.
 *  2. `few-pages`: the last round wrote at most `fewPages` pages (P.Haul's anchor: 64).
 *  3. `not-shrinking`: the last round wrote more than (1 − `minShrink`) × the round before: the
 *     workload dirties memory as fast as rounds copy it (P.Haul stops at 10 % growth; this stops
 *     already when a round shrinks by less than 10 %, since such rounds only add time).
 *  4. `round-cap`: `maxRounds` rounds done (P.Haul: 8; LXD: 10).
 * LXD's other rule (stop when ≥ 70 % of the scanned pages were skipped as clean) is rule 2 in
 * other units; it is reported (`skipped_share`) but not used.
 */
import { PAGE_SIZE } from '../criu/stats.js';

export interface RoundStats {
  /** Pages the pre-dump wrote (dirty since the previous round, or all in round 0). */
  pagesWritten: number;
  /** Pages it found unchanged since the previous round. */
  pagesSkipped: number;
  /** Bytes it moved to the target. */
  bytes: number;
  /** Pre-dump plus transfer of its images, wall clock. */
  ms: number;
  /** How long CRIU kept the workload frozen to collect the dirty pages. */
  frozenMs: number;
}

export interface StopPolicy {
  /** Predicted final freeze that is good enough (default 300 ms: `--downtime-target`). */
  downtimeTargetMs: number;
  fewPages: number;
  minShrink: number;
  maxRounds: number;
}

/** Named defaults, documented in the README and `migrate --help`. */
export const DEFAULT_POLICY: StopPolicy = { downtimeTargetMs: 300, fewPages: 64, minShrink: 0.1, maxRounds: 8 };

export type StopReason = 'downtime' | 'few-pages' | 'not-shrinking' | 'round-cap';

export interface Decision {
  stop: boolean;
  reason?: StopReason;
  /** The final freeze these rounds predict, in ms (null before there is a throughput to go by). */
  predictedFreezeMs: number | null;
  /** Human-readable why, for the report. */
  why: string;
}

/**
 * The rounds' cost model, ms = fixed + bytes ÷ throughput, fitted by least squares over the
 * rounds (they differ in size, round 0 most). With one round, or rounds too alike to fit, all of
 * the time is taken as transfer (no fixed cost): pessimistic about the throughput.
 */
function fit(rounds: readonly RoundStats[]): { bytesPerMs: number; fixedMs: number } | null {
  const n = rounds.length;
  if (n === 0) return null;
  const mb = rounds.reduce((s, r) => s + r.bytes, 0) / n;
  const mt = rounds.reduce((s, r) => s + r.ms, 0) / n;
  const varB = rounds.reduce((s, r) => s + (r.bytes - mb) ** 2, 0);
  const cov = rounds.reduce((s, r) => s + (r.bytes - mb) * (r.ms - mt), 0);
  if (n >= 2 && varB > 0 && cov > 0) {
    const slope = cov / varB; // ms per byte
    const fixedMs = mt - slope * mb;
    if (fixedMs >= 0) return { bytesPerMs: 1 / slope, fixedMs };
  }
  const bytes = rounds.reduce((s, r) => s + r.bytes, 0);
  const ms = rounds.reduce((s, r) => s + r.ms, 0);
  return bytes > 0 && ms > 0 ? { bytesPerMs: bytes / ms, fixedMs: 0 } : null;
}

/** Bytes per ms the rounds moved, fixed costs aside. */
export function throughput(rounds: readonly RoundStats[]): number | null {
  return fit(rounds)?.bytesPerMs ?? null;
}

/** What a round costs besides moving its bytes (CRIU walking the tree, starting the transfer). */
export function fixedCostMs(rounds: readonly RoundStats[]): number {
  return fit(rounds)?.fixedMs ?? 0;
}

/** The final dump and the restore each pay about one fixed cost; the dirty pages travel at the measured rate. */
export function predictFreezeMs(rounds: readonly RoundStats[]): number | null {
  const last = rounds[rounds.length - 1];
  const model = fit(rounds);
  if (!last || !model) return null;
  return Math.round((last.pagesWritten * PAGE_SIZE) / model.bytesPerMs + 2 * model.fixedMs);
}

export function decide(rounds: readonly RoundStats[], policy: StopPolicy = DEFAULT_POLICY): Decision {
  const n = rounds.length;
  const predicted = predictFreezeMs(rounds);
  if (n === 0) return { stop: false, predictedFreezeMs: null, why: 'no round yet' };
  const last = rounds[n - 1]!;
  if (predicted !== null && predicted <= policy.downtimeTargetMs) {
    return { stop: true, reason: 'downtime', predictedFreezeMs: predicted, why: `predicted final freeze ${predicted} ms is within the ${policy.downtimeTargetMs} ms target` };
  }
  if (last.pagesWritten <= policy.fewPages) {
    return { stop: true, reason: 'few-pages', predictedFreezeMs: predicted, why: `round ${n - 1} wrote ${last.pagesWritten} pages (≤ ${policy.fewPages})` };
  }
  if (n >= 2) {
    const prev = rounds[n - 2]!;
    if (last.pagesWritten > prev.pagesWritten * (1 - policy.minShrink)) {
      return {
        stop: true, reason: 'not-shrinking', predictedFreezeMs: predicted,
        why: `round ${n - 1} wrote ${last.pagesWritten} pages after ${prev.pagesWritten}: less than ${Math.round(policy.minShrink * 100)} % fewer`,
      };
    }
  }
  if (n >= policy.maxRounds) {
    return { stop: true, reason: 'round-cap', predictedFreezeMs: predicted, why: `${n} rounds done (the cap)` };
  }
  return { stop: false, predictedFreezeMs: predicted, why: `round ${n - 1} wrote ${last.pagesWritten} pages; predicted freeze ${predicted ?? '?'} ms` };
}

/**
 * Whether rounds that stopped for `reason` converged. `not-shrinking`, and `round-cap` with a
 * predicted freeze above the target, mean the workload dirties memory about as fast as rounds
 * move it: the final dump would carry about a round's worth of pages. Where the target has
 * userfaultfd, `auto` then finishes by post-copy instead (the hybrid freeze carries no memory;
 * measured in the guest at 10 MiB/s: 0.35 × cold, a final dump 0.83 ×).
 */
export function converged(reason: StopReason, predictedFreezeMs: number | null, policy: StopPolicy = DEFAULT_POLICY): boolean {
  if (reason === 'not-shrinking') return false;
  if (reason === 'round-cap') return predictedFreezeMs !== null && predictedFreezeMs <= policy.downtimeTargetMs;
  return true;
}
