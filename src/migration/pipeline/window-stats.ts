/** What the report says about a restore once it is done: CRIU's restore stats, TCP connections, lazy pages. */
import type { Transport } from '../../../transports/transport.js';
import { readLazyPagesStats, readRestoreStats, readRestoredTcp } from '../../criu/run.js';
import { recordTcp, type MigrationReport } from '../report.js';

/** The report's lazy_pages: how a lazy-pages daemon filled the memory (undefined if its log is unreadable). */
export async function lazyPagesOf(target: Transport, workDir: string): Promise<MigrationReport['lazy_pages']> {
  const l = await readLazyPagesStats(target, workDir).catch(() => undefined);
  return l && { on_demand: l.onDemand, background: l.background, total: l.total };
}

/** CRIU's restore stats and the TCP connections it re-created. */
export async function recordRestore(report: MigrationReport, target: Transport, workDir: string): Promise<void> {
  report.criu.restore = await readRestoreStats(target, workDir).catch(() => null);
  recordTcp(report, await readRestoredTcp(target, workDir));
}
