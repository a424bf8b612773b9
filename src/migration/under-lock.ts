/**
 * What every front-end does once preflight passed: takes the workload's lock on the source
 * (`lockPath`, in a directory only root may use; `what` names it when another run holds it), records the preflight time, stops
 * there for a dry run, and otherwise runs `move` under the lock.
 */
import type { Transport } from '../../transports/transport.js';
import { throwIfAborted } from '../../transports/errors.js';
import { lockInPrivateDir } from '../host-lock.js';
import type { MigrationReport } from './report.js';

export async function underLock(source: Transport, lockPath: string, what: string, o: { dryRun?: boolean; signal?: AbortSignal },
  report: MigrationReport, started: number, move: () => Promise<MigrationReport>): Promise<MigrationReport> {
  const lock = await lockInPrivateDir(source, lockPath, what);
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
