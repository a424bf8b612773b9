/** The migration report: what happened, where the workload runs now, and how long it was frozen. */
import type { DumpStats, RestoreStats } from '../criu/stats.js';

export type PageTransport = 'page-server' | 'stream';
/** eager: CRIU reads all memory before the workload resumes; lazy: it resumes at once and a lazy-pages daemon fills its memory from the local images. */
export type RestoreMode = 'eager' | 'lazy';

export interface MigrationReport {
  outcome: 'migrated' | 'rolled-back' | 'dry-run' | 'failed';
  /** Where the workload runs after this run. `none` only when even the rollback failed. */
  runs_on: 'source' | 'target' | 'none';
  strategy: 'cold' | 'postcopy';
  /** How memory pages travelled: straight into a page server on the target during the dump, or streamed after it. */
  pages: PageTransport;
  restore: RestoreMode;
  workload: { kind: 'docker' | 'process-tree'; source: string; target?: string };
  /** Controller clock: freeze started → target reported running (or rollback finished). */
  freeze_ms: number | null;
  /**
   * `image`: --transfer-image sending the container image, before the freeze. `fill` (lazy
   * restore): after the freeze, until the last page was in place on the target.
   */
  phases_ms: { preflight: number; image?: number; create: number; checkpoint: number; transfer: number; restore: number; fill?: number };
  /** raw: checkpoint bytes moved; wire: what crossed the link (after compression); image: --transfer-image's bytes on the wire. */
  bytes: { raw: number; wire: number; image?: number };
  criu: { dump: DumpStats | null; restore: RestoreStats | null };
  /** Post-copy: from the restore until the last page arrived from the source (the memory lived on both hosts). */
  postcopy_ms?: number;
  error?: Record<string, unknown>;
  /** Images kept for manual recovery (only when the workload could not be put back). */
  kept_images?: string;
}

export function emptyReport(kind: MigrationReport['workload']['kind'], source: string, pages: PageTransport): MigrationReport {
  return {
    outcome: 'failed', runs_on: 'source', strategy: 'cold', pages, restore: 'eager', workload: { kind, source },
    freeze_ms: null, phases_ms: { preflight: 0, create: 0, checkpoint: 0, transfer: 0, restore: 0 },
    bytes: { raw: 0, wire: 0 }, criu: { dump: null, restore: null },
  };
}
