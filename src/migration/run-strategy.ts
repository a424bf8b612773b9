/**
 * Runs the strategy preflight chose on a workload ready to move: pre-copy's rounds first where
 * the strategy has them, then the cold freeze (cold, precopy) or the post-copy one (postcopy,
 * hybrid). One place for what every workload kind does the same way.
 *
 * `lazyFinish` (auto picked pre-copy, and the target has userfaultfd): once the rounds are done,
 * their statistics decide. Rounds that converged end with the final dump (precopy); rounds that
 * did not — the workload dirties memory as fast as they copy it — end with post-copy's freeze,
 * which carries no memory (hybrid), and the report's strategy and reason say so.
 */
import type { Transport } from '../../transports/transport.js';
import { throwIfAborted } from '../errors.js';
import { lockHost } from '../host-lock.js';
import { migrateCold, type ColdOptions } from './cold.js';
import { freezeLazily, migratePostcopy } from './postcopy.js';
import { preCopyRounds } from './precopy.js';
import { DEFAULT_POLICY, converged, type StopPolicy } from './precopy-policy.js';
import type { MigrationReport } from './report.js';
import type { Strategy } from './strategy.js';

export function runStrategy(strategy: Strategy, o: Omit<ColdOptions, 'preCopy' | 'finish'>, policy: Partial<StopPolicy> | undefined,
  runPrefix: string, lazyFinish = false): Promise<MigrationReport> {
  const p = { ...DEFAULT_POLICY, ...policy };
  const preCopy = strategy === 'precopy' || strategy === 'hybrid' ? preCopyRounds(o, p) : undefined;
  if (strategy === 'postcopy' || strategy === 'hybrid') return migratePostcopy({ ...o, preCopy }, runPrefix);
  const finish: ColdOptions['finish'] = (src, dst, parent) => {
    const stop = o.report.precopy?.stop;
    if (!lazyFinish || !stop?.reason || converged(stop.reason, stop.predicted_freeze_ms, p)) return undefined;
    o.report.strategy = 'hybrid';
    o.report.strategy_reason = `${o.report.strategy_reason ?? 'auto'}. The rounds did not converge (${stop.why}): post-copy finished it (hybrid)`;
    return freezeLazily(o, src, dst, parent);
  };
  return migrateCold({ ...o, preCopy, finish }, runPrefix);
}

/**
 * What every front-end does once preflight passed: takes the workload's lock on the source
 * (`lockPath`; `what` names it when another run holds it), records the preflight time, stops
 * there for a dry run, and otherwise runs `move` under the lock.
 */
export async function underLock(source: Transport, lockPath: string, what: string, o: { dryRun?: boolean; signal?: AbortSignal },
  report: MigrationReport, started: number, move: () => Promise<MigrationReport>): Promise<MigrationReport> {
  const lock = await lockHost(source, lockPath, what);
  try {
    report.phases_ms.preflight = Date.now() - started;
    if (o.dryRun) {
      report.outcome = 'dry-run';
      return report;
    }
    throwIfAborted(o.signal);
    return await move();
  } finally {
    await lock.release();
  }
}
