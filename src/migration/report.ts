/** The migration report: what happened, where the workload runs now, and how long it was frozen. */
import type { DumpStats, RestoreStats } from '../criu/stats.js';

export interface MigrationReport {
  outcome: 'migrated' | 'rolled-back' | 'dry-run' | 'failed';
  /** Where the workload runs after this run. `none` only when even the rollback failed. */
  runs_on: 'source' | 'target' | 'none';
  strategy: 'cold';
  workload: { kind: 'docker'; source: string; target?: string };
  /** Controller clock: freeze started → target reported running (or rollback finished). */
  freeze_ms: number | null;
  phases_ms: { preflight: number; create: number; checkpoint: number; transfer: number; restore: number };
  bytes: { raw: number; wire: number };
  criu: { dump: DumpStats | null; restore: RestoreStats | null };
  error?: Record<string, unknown>;
  /** Images kept for manual recovery (only when the workload could not be put back). */
  kept_images?: string;
}
