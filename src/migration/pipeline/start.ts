/** Builds a run's context from what preflight decided, and runs the pipeline. */
import { DEFAULT_POLICY, type StopPolicy } from '../precopy-policy.js';
import type { StrategyChoice } from '../strategy.js';
import type { MigrationReport } from '../report.js';
import { REAL_SERVICES, type MoveContext } from './context.js';
import { planFor } from './plan.js';
import { runPipeline } from './run.js';
import { DEFAULT_FREEZE_TIMEOUT_MS } from './deadline.js';

export type MoveOptions = Omit<MoveContext, 'plan' | 'policy' | 'services' | 'freezeTimeoutMs'> & Partial<Pick<MoveContext, 'services' | 'freezeTimeoutMs'>>;

export function move(choice: Pick<StrategyChoice, 'strategy' | 'lazyFinish'>, o: MoveOptions, policy?: Partial<StopPolicy>): Promise<MigrationReport> {
  return runPipeline({ services: REAL_SERVICES, freezeTimeoutMs: DEFAULT_FREEZE_TIMEOUT_MS, ...o, plan: planFor(choice.strategy, choice.lazyFinish), policy: { ...DEFAULT_POLICY, ...policy } });
}
