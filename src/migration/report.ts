/** The migration report: what happened, where the workload runs now, and how long it was frozen. */
import type { DumpStats, RestoreStats } from '../criu/stats.js';
import type { FilesystemPass } from '../filesystem/tree-sync.js';
import type { CacheStats } from '../prefetch/remote/page-cache.js';
import type { WorkloadKind } from './workload.js';
import type { StopReason } from './precopy-policy.js';
import type { TcpPolicy } from '../criu/tcp-policy.js';
import type { Strategy } from './strategy.js';

/**
 * Where the workload runs after a run. `none`: even resuming it on the source failed; `unknown`:
 * the target could not be asked whether the copy restored there is gone, so the source copy was
 * left stopped (two running copies are worse than none): the error says how to finish by hand.
 */
export type RunsOn = 'source' | 'target' | 'none' | 'unknown';

export type PageTransport = 'page-server' | 'stream';
export type PageChannel = 'direct' | 'ssh';
/** eager: CRIU reads all memory before the workload resumes; lazy: it resumes at once and a lazy-pages daemon fills its memory from the local images. */
export type RestoreMode = 'eager' | 'lazy';

export interface MigrationReport {
  outcome: 'migrated' | 'rolled-back' | 'dry-run' | 'failed';
  /** Where the workload runs after this run. `none` only when even the rollback failed. */
  runs_on: RunsOn;
  strategy: Strategy;
  /** Why this strategy: asked for, or what `auto` weighed. */
  strategy_reason?: string;
  /** How memory pages travelled: straight into a page server on the target during the dump, or streamed after it. */
  pages: PageTransport;
  /**
   * Which way the page channels (a page server's stream, post-copy's pulls) went: `direct`, a TCP
   * connection between the hosts (TLS with the run's credential); `ssh`, through the SSH
   * connections and a relay on the controller. Set once chosen (pipeline/page-channel.ts).
   */
  page_channel?: PageChannel;
  /** Why not direct, when it was `ssh`. */
  page_channel_reason?: string;
  /**
   * Post-copy: whether a prefetcher on the target pulled the memory ahead of CRIU's lazy-pages
   * daemon (prefetch/), why not, and its figures once the window closed: pages served to the
   * daemon from what had already arrived, after waiting, or asked of the source for it alone.
   */
  prefetch?: { used: boolean; reason?: string; stats?: CacheStats };
  /** Post-copy over a direct page channel: whether a page forwarder on the source carried the pages to the link (transfer/page-forwarder.ts), why not. */
  page_forwarder?: { used: boolean; reason?: string };
  restore: RestoreMode;
  workload: { kind: WorkloadKind; source: string; target?: string };
  /**
   * How long the workload was frozen, on the controller's clock: from CRIU freezing it on the
   * source (`freeze_start`) until the target's guard resumed the restored copy (or the rollback
   * finished).
   */
  freeze_ms: number | null;
  /**
   * Where freeze_ms starts. `criu`: when CRIU began freezing the workload — as its dump's log
   * says (dump.log's mtime less the time from the line that opens CRIU's freezing stage to the
   * last line), on the source's clock, set against the controller's within ± `uncertainty_ms`
   * (the earliest moment that allows is taken); the checkpoint command had been issued
   * `command_ms` before (runc's and CRIU's start-up, while the workload still ran).
   * `command`: from issuing the checkpoint command — for Docker
   * containers (containerd pauses the container before runc starts CRIU, and nothing records
   * when: bench:docker-freeze measures by how much this overstates the freeze), when the log
   * or the source's clock could not be read, and after a rollback.
   */
  freeze_start: { from: 'criu' | 'command'; command_ms?: number; uncertainty_ms?: number };
  /**
   * `image`: --transfer-image sending the container image, before the freeze. `fill` (lazy
   * restore): after the freeze, until the last page was in place on the target.
   */
  /**
   * `filesystem_before_freeze`: copying the container's files while it ran. `filesystem`: copying
   * what changed since, while frozen (side by side with the checkpoint's transfer).
   */
  phases_ms: {
    preflight: number; image?: number; create: number; filesystem_before_freeze?: number; precopy?: number; checkpoint: number; filesystem?: number;
    transfer: number; restore: number; fill?: number;
  };
  /**
   * raw: checkpoint bytes moved; wire: what crossed the link (after compression); image:
   * --transfer-image's bytes on the wire. filesystem: file data of the writable layer, volumes
   * and copied bind mounts, before the freeze and while frozen (uncompressed), and on the wire.
   */
  bytes: { raw: number; wire: number; image?: number; filesystem?: { before_freeze: number; frozen: number; wire: number } };
  /** Per copied tree (writable layer, each volume, each copied bind mount): what each pass moved. */
  filesystem?: Array<{ tree: string; before_freeze?: TreePass; frozen?: TreePass }>;
  criu: { dump: DumpStats | null; restore: RestoreStats | null };
  /**
   * Lazy restore and post-copy: how the memory reached the restored workload — page faults
   * served on demand (one page each) and pages copied in ahead of any fault.
   */
  lazy_pages?: { on_demand: number; background: number; total: number };
  /** Pre-copy: every round, and why they stopped. */
  precopy?: PrecopyReport;
  /**
   * What this run first put back of an earlier run of the workload that died (recover.ts). When
   * that earlier run's restore had finished, the workload already ran on the target: this run
   * then only ended the stopped source copy, moved nothing (freeze_ms null) and says migrated.
   */
  recovered?: string[];
  /**
   * The workload's TCP connections (`--tcp`): `established` — connections it held (counted by
   * CRIU's restore when it moved, else by preflight); `closed` — how many of them were dropped
   * (policy close); `reset_on_source` — policy close: the source copy's connections reset once
   * the target's copy ran, so that its clients reconnect at once (absent when none were: a
   * workload without a network namespace of its own, or a reset that failed, with a warning).
   */
  tcp: { policy: TcpPolicy; established: number; closed: number; reset_on_source?: number };
  /**
   * Docker: how the target's container differs from the source's, on purpose (twin.ts
   * TWIN_CHANGES: `change` is its key), and each network it joined with its address before and
   * after (`address_after` null until it ran there).
   */
  container?: {
    changes: Array<{ change: string; detail: string }>;
    networks: Array<{ name: string; address_before: string | null; address_after: string | null; address_changed: boolean | null }>;
  };
  /** Post-copy: from the restore until the last page arrived from the source (the memory lived on both hosts). */
  postcopy_ms?: number;
  error?: Record<string, unknown>;
  /** Images kept for manual recovery (only when the workload could not be put back). */
  kept_images?: string;
}

export interface PrecopyReport {
  rounds: Array<{ round: number; pages_written: number; pages_skipped: number; skipped_share: number; bytes: number; wire_bytes: number; ms: number; frozen_ms: number }>;
  /** reason: empty until the rounds stopped. */
  stop: { reason: StopReason | ''; why: string; predicted_freeze_ms: number | null };
  policy: { downtime_target_ms: number; few_pages: number; min_shrink: number; max_rounds: number };
}

export interface TreePass { entries: number; removed: number; bytes: number; wire_bytes: number; ms: number }

/** The report's tcp after a restore that re-created `restored` connections (undefined: CRIU's log did not say). */
export function recordTcp(report: MigrationReport, restored: number | undefined): void {
  if (restored !== undefined) report.tcp.established = restored;
  report.tcp.closed = report.tcp.policy === 'close' ? report.tcp.established : 0;
}

/** Adds one pass of a workload's file copies to the report. */
export function recordFilesystem(report: MigrationReport, when: 'before_freeze' | 'frozen', pass: FilesystemPass): void {
  if (pass.trees.length === 0) return; // a workload without files of its own (process trees, runc)
  const totals = (report.bytes.filesystem ??= { before_freeze: 0, frozen: 0, wire: 0 });
  totals[when] += pass.bytes;
  totals.wire += pass.wireBytes;
  if (when === 'before_freeze') report.phases_ms.filesystem_before_freeze = pass.ms;
  else report.phases_ms.filesystem = pass.ms;
  const trees = (report.filesystem ??= []);
  for (const t of pass.trees) {
    let row = trees.find((r) => r.tree === t.tree);
    if (!row) trees.push((row = { tree: t.tree }));
    row[when] = { entries: t.entries, removed: t.removed, bytes: t.bytes, wire_bytes: t.wireBytes, ms: t.ms };
  }
}

export function emptyReport(kind: MigrationReport['workload']['kind'], source: string, pages: PageTransport): MigrationReport {
  return {
    outcome: 'failed', runs_on: 'source', strategy: 'cold', pages, restore: 'eager', workload: { kind, source },
    freeze_ms: null, freeze_start: { from: 'command' }, phases_ms: { preflight: 0, create: 0, checkpoint: 0, transfer: 0, restore: 0 },
    bytes: { raw: 0, wire: 0 }, criu: { dump: null, restore: null }, tcp: { policy: 'refuse', established: 0, closed: 0 },
  };
}
