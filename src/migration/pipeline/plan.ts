/**
 * A strategy is data the pipeline reads: whether pre-copy rounds run before the freeze, and
 * whether the freeze dumps the memory (eager) or leaves it on the source to be pulled after the
 * restore (lazy). auto's pre-copy may switch to a lazy freeze when its rounds do not converge.
 */
import type { Strategy } from '../strategy.js';

export interface Plan {
  strategy: Strategy;
  /** Pre-copy rounds (CRIU pre-dumps) while the workload runs. */
  rounds: boolean;
  freeze: 'eager' | 'lazy';
  /** auto picked pre-copy and the target has userfaultfd: rounds that do not converge end with a lazy freeze (hybrid). */
  lazyWhenNotConverged: boolean;
}

const SHAPES: Readonly<Record<Strategy, Pick<Plan, 'rounds' | 'freeze'>>> = {
  cold: { rounds: false, freeze: 'eager' },
  precopy: { rounds: true, freeze: 'eager' },
  postcopy: { rounds: false, freeze: 'lazy' },
  hybrid: { rounds: true, freeze: 'lazy' },
};

export function planFor(strategy: Strategy, lazyWhenNotConverged = false): Plan {
  return { strategy, ...SHAPES[strategy], lazyWhenNotConverged: lazyWhenNotConverged && SHAPES[strategy].freeze === 'eager' };
}
