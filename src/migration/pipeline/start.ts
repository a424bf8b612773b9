/** Builds a run's context from what preflight decided, and runs the pipeline. */
import { DEFAULT_POLICY, type StopPolicy } from '../precopy-policy.js';
import type { StrategyChoice } from '../strategy.js';
import type { MigrationReport } from '../report.js';
import { REAL_SERVICES, type MoveContext } from './context.js';
import { planFor } from './plan.js';
import { runPipeline } from './run.js';

export type MoveOptions = Omit<MoveContext, 'plan' | 'policy' | 'services'> & Partial<Pick<MoveContext, 'services'>>;

export function move(choice: Pick<StrategyChoice, 'strategy' | 'lazyFinish'>, o: MoveOptions, policy?: Partial<StopPolicy>): Promise<MigrationReport> {
  return runPipeline({ services: REAL_SERVICES, ...o, plan: planFor(choice.strategy, choice.lazyFinish), policy: { ...DEFAULT_POLICY, ...policy } });
}
