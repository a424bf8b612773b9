/**
 * The matrix's rows: how a workload of each kind is moved. Every migrate row pins its strategy
 * (never `auto`, which would pick by size and blur the rows) and keeps migrate's other defaults
 * (pages to a page server on B during the dump; lazy restore where B has userfaultfd); the report
 * says which were used and the JSON keeps it.
 *
 * Adding a row is adding an entry to ROWS. A row that cannot run on these hosts says why through
 * `unavailable` and is listed as not measured: that is how pre-copy and hybrid (pre-copy rounds,
 * then a post-copy freeze) are in the list — both need a source kernel with soft-dirty tracking,
 * which the lab's hosts lack (the soft-dirty guest, lab/guest, has it but is not this lab);
 * where the library's own check (`requirePrecopy`) passes, they run like any other row. No
 * figure of theirs is ever made up here.
 */
import { migrate, type MigrateEvent, type MigrationReport, type PrefetchMode, type Strategy, type Transport } from '../../src/index.js';
import { requirePrecopy } from '../../src/migration/precopy.js';
import { BASELINE, dockerBaselineMove, nowMs, type BaselineHosts, type Move } from './docker-baseline.js';
import type { ContainerSubject, Kind, Subject, TreeSubject } from './matrix-subjects.js';

export type RowId = 'baseline' | 'cold' | 'postcopy' | 'precopy' | 'hybrid';

/** A move with what migrate's report adds. */
export interface RowMove extends Move {
  postcopy_ms?: number;
  fill_ms?: number;
  report?: MigrationReport;
}

export interface Row {
  id: RowId;
  kind: Kind;
  name: string;
  /** Why this row cannot run between these hosts; undefined when it can. */
  unavailable?: (h: BaselineHosts) => Promise<string | undefined>;
  move(h: BaselineHosts, s: Subject): Promise<RowMove>;
}

/** A migration that ended other than `migrated`: the report goes into the results with the error. */
export class MoveFailed extends Error {
  constructor(readonly report: MigrationReport) {
    super(`migrate ended ${report.outcome} (runs on ${report.runs_on}): ${String(report.error?.message ?? 'no error given')}`);
  }
}

function fromReport(report: MigrationReport, totalMs: number, freezeStartedAt: number | undefined): RowMove {
  if (report.outcome !== 'migrated' || report.freeze_ms === null) throw new MoveFailed(report);
  return {
    // The report's freeze starts at CRIU's freeze when its stats said when: command_ms after the step.
    freeze_ms: report.freeze_ms, ...(freezeStartedAt === undefined ? {} : { freezeStartedAt: freezeStartedAt + (report.freeze_start?.command_ms ?? 0) }), total_ms: Math.round(totalMs), phases_ms: { ...report.phases_ms }, bytes: { raw: report.bytes.raw, wire: report.bytes.wire },
    ...(report.postcopy_ms === undefined ? {} : { postcopy_ms: report.postcopy_ms }),
    ...(report.phases_ms.fill === undefined ? {} : { fill_ms: report.phases_ms.fill }),
    report,
  };
}

/**
 * Runs one migrate call. Total migration time: the wall clock of the whole call (preflight to
 * the end of fill or post-copy). The library issues the checkpoint command right after it emits
 * the `checkpoint` step (migration/pipeline/run.ts; events are synchronous); its freeze starts
 * there, or `freeze_start.command_ms` later (CRIU's own start of the freeze).
 */
async function timedReport(call: (onEvent: (e: MigrateEvent) => void) => Promise<MigrationReport>, also?: (e: MigrateEvent) => void): Promise<RowMove> {
  let freezeStartedAt: number | undefined;
  const onEvent = (e: MigrateEvent) => {
    if (e.kind === 'step' && e.step === 'checkpoint') freezeStartedAt = nowMs();
    also?.(e);
  };
  const t0 = performance.now();
  const report = await call(onEvent);
  return fromReport(report, performance.now() - t0, freezeStartedAt);
}

const asContainer = (s: Subject): ContainerSubject => {
  if (s.kind !== 'docker') throw new TypeError(`a container row got a ${s.kind}`);
  return s;
};
const asTree = (s: Subject): TreeSubject => {
  if (s.kind !== 'tree') throw new TypeError(`a tree row got a ${s.kind}`);
  return s;
};


/** Options every migrate row passes (the bench's `--prefetch`); the library's defaults otherwise. */
export const rowOptions: { prefetch?: PrefetchMode } = {};

function containerRow(strategy: 'cold' | 'postcopy'): Row {
  return {
    id: strategy, kind: 'docker', name: `migrate --strategy ${strategy}`,
    // keepSource: A's exited container keeps its log, the workload's view of its last ticks there.
    move: (h, s) => timedReport((onEvent) => migrate({ container: asContainer(s).name, source: h.a, target: h.b, keepSource: true, strategy, ...rowOptions, onEvent })),
  };
}

function treeRow(strategy: Strategy, unavailable?: Row['unavailable']): Row {
  return {
    id: strategy, kind: 'tree', name: `migrate --pid --strategy ${strategy}`, unavailable,
    move: (h, s) => {
      const t = asTree(s);
      return timedReport((onEvent) => migrate({ pid: t.tree.pid, source: h.a, target: h.b, strategy, ...rowOptions, onEvent }), t.onEvent);
    },
  };
}

/** Pre-copy and hybrid: the library's own refusal, before anything runs, is the reason. */
async function softDirtyUnavailable(h: { a: Transport; b: Transport }): Promise<string | undefined> {
  try {
    await requirePrecopy(h.a, h.b);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export const ROWS: Row[] = [
  { id: 'baseline', kind: 'docker', name: BASELINE, move: (h, s) => dockerBaselineMove(h, s.label, asContainer(s).createArgs, { wireBytes: true }) },
  containerRow('cold'),
  containerRow('postcopy'),
  treeRow('cold'),
  treeRow('postcopy'),
  treeRow('precopy', softDirtyUnavailable),
  treeRow('hybrid', softDirtyUnavailable),
];
