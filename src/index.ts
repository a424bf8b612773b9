/**
 * migrate as a library: what a script needs to move a Docker container, a runc container or a
 * process tree between hosts, to check two hosts first, to put back what a migration that
 * died left, and to drain a host of its containers (and bring them back). It never prints: it reports through `onEvent` (MigrateEvent) and returns reports;
 * every failure is a MigrateError with a code, the host, and what to do. The `migrate` CLI and
 * the benchmarks use this entry only.
 *
 *   import { migrate, openTransport } from 'migrate';
 *   const report = await migrate({
 *     container: 'web',
 *     source: openTransport(undefined),              // this machine
 *     target: openTransport('ssh://root@host-b'),
 *     onEvent: (e) => e.kind === 'step' && console.error(e.step, e.host ?? ''),
 *   });
 *   console.log(report.outcome, report.runs_on, report.freeze_ms);
 */
import { checkHosts, type CheckReport } from './check/index.js';
import { migrateDockerContainer } from './migration/docker.js';
import type { DockerOptions } from './migration/kinds/docker.js';
import type { RuncOptions } from './migration/kinds/runc.js';
import type { MigrationOptions } from './migration/options.js';
import type { MigrationReport } from './migration/report.js';
import { migrateRuncContainer } from './migration/runc.js';
import { migrateProcessTree } from './migration/tree.js';
import { DrainJournal, defaultJournalDir } from './drain/journal.js';
import type { Transport } from '../transports/transport.js';

/** Which workload to move: a Docker container (with its options), a process tree, or a runc container. */
export type WorkloadChoice =
  | DockerOptions
  | { pid: number }
  | { runc: RuncOptions['id']; runcRoot?: RuncOptions['runcRoot'] };

export type MigrateOptions = MigrationOptions & WorkloadChoice;

/**
 * Migrates one workload from `source` to `target` and says where it runs now. A failure before
 * the freeze throws (nothing moved); one after it rolls back and returns `outcome:
 * "rolled-back"`; when even that fails it throws with `runsOn` saying where the workload is.
 */
export function migrate(o: MigrateOptions): Promise<MigrationReport> {
  if ('pid' in o) return migrateProcessTree(o);
  if ('runc' in o) return migrateRuncContainer({ ...o, id: o.runc });
  return migrateDockerContainer(o);
}

export interface CheckOptions {
  source: Transport;
  target: Transport;
}

/** Probes both hosts (CRIU, kernel features, Docker) and says which strategies work between them. Changes nothing. */
export function check(o: CheckOptions): Promise<CheckReport> {
  return checkHosts(o.source, o.target);
}

export { recover, type RecoverOptions, type RecoverReport } from './migration/recover.js';

export {
  drain, resumeDrain, undrain,
  type DrainOptions, type ResumeOptions, type UndrainOptions, type DrainReport, type DrainEvent, type DrainEventSink, type ContainerResult, type ContainerOutcome, type MoveOptions,
} from './drain/drain.js';
export { ORDERS as DRAIN_ORDERS, type DrainOrder, type DrainPlan, type PlannedMove } from './drain/plan.js';
export { DrainJournal, defaultJournalDir, type DrainHeader } from './drain/journal.js';

/** A drain's journal by its ID (in `dir`, default `<work root>/drains`): its header names the hosts and the plan. */
export function openDrainJournal(id: string, dir = defaultJournalDir()): DrainJournal {
  return DrainJournal.open(dir, id);
}

export type { MigrationOptions } from './migration/options.js';
export type { DockerOptions } from './migration/kinds/docker.js';
export type { MigrationReport, RunsOn, PageTransport, PageChannel, RestoreMode, PrecopyReport } from './migration/report.js';
export { PAGE_CHANNEL_MODES, type PageChannelMode } from './migration/pipeline/page-channel.js';
export { PREFETCH_MODES, type PrefetchMode } from './prefetch/prefetcher.js';
export { PAGE_FORWARDER_MODES, type PageForwarderMode } from './transfer/page-forwarder.js';
export type { CheckReport, HostInfo, Assessment } from './check/index.js';
export { STRATEGIES, type Strategy } from './migration/strategy.js';
export { TCP_POLICIES, type TcpPolicy } from './criu/tcp-policy.js';
export { DEFAULT_POLICY as DEFAULT_PRECOPY_POLICY, type StopPolicy } from './migration/precopy-policy.js';
export type { MigrateEvent, EventSink, ProgressEvent } from './events.js';
export { MigrateError, isMigrateError, errorJson, type ErrorCode, type ErrorDetails } from '../transports/errors.js';
export { openTransport, LocalTransport, SshTransport, type Transport, type SshOptions } from '../transports/index.js';
