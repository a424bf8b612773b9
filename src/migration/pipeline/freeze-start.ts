/**
 * The freeze counted from CRIU's own start of it, not from the checkpoint command's (which runs
 * a while before CRIU freezes anything: runc's and CRIU's start-up): the dump's log says when,
 * on the source's clock, and the source's clock offset (host-clock.ts) sets that against the
 * controller's. Read after the run's freeze and window, off the workload's time.
 */
import { dumpFreezeStartedAt } from '../../criu/run.js';
import type { ClockOffset } from '../../host-clock.js';
import type { MoveContext } from './context.js';
import type { FreezeClock } from './freeze-clock.js';

/**
 * Moves report.freeze_ms's start to CRIU's, when the workload is one CRIU stops (not Docker's:
 * Workload.stoppedByCriu) and the dump's log and the clock offset allow; else leaves it at the
 * command's, which can only make the freeze longer (never throws).
 */
export async function countFromCriuFreeze(c: MoveContext, workDir: string, clock: FreezeClock, sourceClock: Promise<ClockOffset | undefined>): Promise<void> {
  const { report, source } = c;
  if (!c.workload.stoppedByCriu) return;
  try {
    const [startedAt, offset] = await Promise.all([dumpFreezeStartedAt(source, workDir), sourceClock]);
    // The earliest moment the offset's uncertainty allows: a freeze is never under-counted for it.
    if (!offset || !clock.criuFroze(startedAt - offset.offsetMs - offset.uncertaintyMs)) return;
    report.freeze_ms = clock.frozenMs();
    report.freeze_start = { from: 'criu', command_ms: Math.round(clock.notFrozenMs), uncertainty_ms: Math.round(offset.uncertaintyMs * 10) / 10 };
  } catch {
    // the log does not say: the freeze stays counted from the command
  }
}
