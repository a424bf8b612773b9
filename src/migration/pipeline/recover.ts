/**
 * The one recovery path of a run that froze the workload: whatever failed, the target copy is
 * removed first, then the stopped source copy continues (SIGCONT), so it never runs twice. The
 * report says where it runs; only when even the source copy cannot continue does the run throw
 * (runs_on "none", with how to resume it by hand).
 */
import { MigrateError, errorJson, isMigrateError } from '../../../transports/errors.js';
import { noSpaceError } from '../../transfer/disk-full.js';
import type { MigrationReport } from '../report.js';
import type { Dirs } from '../workload.js';
import { step, type MoveContext } from './context.js';
import type { FreezeClock } from './freeze-clock.js';
import { removeDirs } from './prepare.js';

/**
 * `e`, or NO_SPACE when a host's work directory filled up (target first: it receives the images;
 * the source writes them in stream mode). Asked before anything is cleaned up.
 */
export async function whenDiskFull(c: Pick<MoveContext, 'source' | 'target' | 'workRoot'>, e: unknown): Promise<unknown> {
  if (isMigrateError(e, 'NO_SPACE')) return e;
  return (await noSpaceError(c.target, c.workRoot, e)) ?? (await noSpaceError(c.source, c.workRoot, e)) ?? e;
}

/**
 * What the target holds of the workload: its copy (a twin, a restored tree) and the run's
 * directory. Whether its copy is surely gone (the target may be the thing that broke).
 */
export async function clearTarget(c: MoveContext, dirs: Dirs): Promise<boolean> {
  const gone = await c.workload.removeFromTarget().then(() => true, () => false);
  await removeDirs(c.target, dirs);
  return gone;
}

/**
 * After a failure once the freeze began (`cause`): the target cleared, the source copy resumed
 * where a failed dump left it stopped. Returns the rolled-back report. When the restore had begun
 * (`restoreBegan`) and the target cannot confirm its copy is gone, the source copy stays stopped
 * and the run throws (runs_on "unknown"): two running copies are worse than none.
 */
export async function recover(c: MoveContext, dirs: Dirs, clock: FreezeClock, cause: unknown, restoreBegan = false): Promise<MigrationReport> {
  const { workload, report, source, target } = c;
  const e = await whenDiskFull(c, cause);
  report.error = errorJson(e);
  step(c, 'rollback', source, `resuming the stopped ${workload.label}`);
  if (!(await clearTarget(c, dirs)) && restoreBegan) {
    report.outcome = 'failed';
    report.runs_on = 'unknown';
    const first = e instanceof Error ? e.message : String(e);
    throw new MigrateError('RESTORE_FAILED', `migration failed (${first.split('\n')[0]}) after the restore on ${target.name} began, and ${target.name} cannot confirm ${workload.label} is gone from it: it stays stopped on the source`, {
      host: target.name, stderr: first, runsOn: 'unknown', cause: e,
      hint: `look on ${target.name}: if it runs there, keep it and end the stopped copy on ${source.name}; if it does not, resume it on the source (${workload.resumeHint()})`,
    });
  }
  // A dump that leaves the workload stopped leaves its network namespace locked too: lifted
  // first, or it would resume cut off from the network (a warning says how to lift it by hand).
  await workload.unlockSourceNetwork?.().catch((err: unknown) => {
    c.emit({ kind: 'warning', host: source.name, message: `${err instanceof Error ? err.message : String(err)}${err instanceof MigrateError && err.hint ? ` (${err.hint})` : ''}` });
  });
  // A dump that failed may have left the processes running (CRIU resumes them) or stopped.
  const resumed = (await workload.runsOnSource().catch(() => false)) || (await workload.resumeOnSource().then(() => true, () => false));
  if (!resumed && !(await workload.runsOnSource().catch(() => false))) {
    report.outcome = 'failed';
    report.runs_on = 'none';
    const first = e instanceof Error ? e.message : String(e);
    throw new MigrateError('RESTORE_FAILED', `migration failed (${first.split('\n')[0]}) and so did resuming ${workload.label} on the source`, {
      host: source.name, stderr: first, hint: workload.resumeHint(), runsOn: 'none', cause: e,
    });
  }
  report.freeze_ms = clock.untilNowMs();
  report.outcome = 'rolled-back';
  report.runs_on = 'source';
  await removeDirs(source, dirs);
  return report;
}
