/**
 * `--strategy auto` (the default): which strategy fits this workload between these hosts, and
 * why. Pure, so the rules are unit-tested; the facts come from preflight's probes.
 *
 * 1. Below AUTO_MEMORY_MIN resident, cold: its freeze is mostly fixed costs (container restore,
 *    CRIU walking the tree), and no memory lives on two hosts at any time.
 * 2. Otherwise pre-copy where the source's kernel tracks dirty pages (soft-dirty): the memory
 *    moves while the workload runs, and nothing depends on the link after the restore. Where the
 *    target also has userfaultfd, the rounds' own statistics decide the finish: rounds that do
 *    not converge (the workload dirties as fast as they copy) end in post-copy's freeze without
 *    memory (hybrid) instead of a final dump (`lazyFinish`, precopy-policy.ts `converged`).
 * 3. Otherwise post-copy where the target
 *    has non-cooperative userfaultfd: the freeze carries no memory at all (measured in the lab:
 *    1 GiB container frozen 2.6 s instead of 7.1 s cold), at the price of a window in which a
 *    broken link rolls it back to the source.
 * 4. Otherwise cold.
 */
/** Every strategy, in the order help and reports list them. */
export const STRATEGIES = ['cold', 'postcopy', 'precopy', 'hybrid'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/**
 * Where memory starts to dominate a cold freeze: about one second of copying on the lab's link
 * and disks (cold 1 GiB container: 7.1 s frozen, of which the fixed part is ~2 s).
 */
export const AUTO_MEMORY_MIN = 256 * 2 ** 20;

export interface StrategyFacts {
  /** What counts as big (default AUTO_MEMORY_MIN). */
  memoryMin?: number;
  residentBytes: number;
  /** Only probed when it matters (undefined: not asked). */
  sourceSoftDirty?: boolean;
  targetUffd?: boolean;
}

export interface StrategyChoice {
  strategy: Strategy;
  reason: string;
  /** Pre-copy picked by auto: finish by post-copy should the rounds not converge. */
  lazyFinish?: boolean;
}

const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

/** Which facts auto needs probed for this workload (so the caller probes no more than that). */
export function factsNeeded(residentBytes: number, memoryMin = AUTO_MEMORY_MIN): { softDirty: boolean; uffd: boolean } {
  const big = residentBytes >= memoryMin;
  return { softDirty: big, uffd: big };
}

/** The same rules for every kind of workload: each can do every strategy. */
export function chooseStrategy(f: StrategyFacts): StrategyChoice {
  const size = `${mib(f.residentBytes)} resident`;
  const min = f.memoryMin ?? AUTO_MEMORY_MIN;
  if (f.residentBytes < min) {
    return { strategy: 'cold', reason: `auto: ${size} (< ${mib(min)}): a cold freeze is mostly fixed costs, and no memory is left on the source` };
  }
  if (f.sourceSoftDirty) {
    const reason = `auto: ${size} and the source's kernel tracks dirty pages: pre-copy moves the memory while it runs`;
    if (f.targetUffd) return { strategy: 'precopy', lazyFinish: true, reason: `${reason}; should its rounds not converge, post-copy finishes it (the target has userfaultfd)` };
    return { strategy: 'precopy', reason };
  }
  const noPre = "the source's kernel lacks soft-dirty (no pre-copy)";
  if (f.targetUffd) {
    return { strategy: 'postcopy', reason: `auto: ${size}, ${noPre}, and the target has userfaultfd: post-copy freezes without the memory` };
  }
  return { strategy: 'cold', reason: `auto: ${size}, ${noPre}, and the target lacks userfaultfd (no post-copy)` };
}
