/**
 * What the front-end (migrate-workload.ts) needs from one kind of workload, before the pipeline
 * takes over with the Workload it makes.
 */
import type { TcpPolicy } from '../../criu/tcp-policy.js';
import type { RecoverOptions } from '../recover.js';
import type { MigrationReport } from '../report.js';
import type { Strategy } from '../strategy.js';
import type { Workload, WorkloadKind } from '../workload.js';

export interface WorkloadFacts {
  /** As the report names it: the container's name, "pid N". */
  name: string;
  /** As messages name it: "container web", "process tree 4242". */
  label: string;
  /** The processes CRIU will dump (the root first). */
  pids: number[];
  /** Resident bytes: what its checkpoint roughly weighs. */
  rss: number;
  /** Its lock on the source (host-lock.ts workloadLockPath): one migration of it at a time. */
  lockPath: string;
  /** Names its checkpoint directories on both hosts. */
  runPrefix: string;
}

export interface WorkloadAdapter {
  readonly kind: WorkloadKind;
  /** What the user named (before inspect() found it). */
  readonly name: string;
  /** Programs both hosts need for this kind besides CRIU's and the image stream's. */
  readonly tools: string[];
  /** Keep the source copy (a container, exited) after a successful migration. */
  readonly keepSource: boolean;
  /** How `migrate recover` (recover.ts) names it: what an earlier run that died left is put back first. Undefined: not supported for this kind. */
  readonly recoverable?: RecoverOptions['workload'];
  /** Finds it on the source and refuses what cannot move (PREFLIGHT), before anything else. */
  inspect(): Promise<WorkloadFacts>;
  /** Once the strategy is known: what the target must have for this kind (an image, a bundle, free PIDs). */
  checkTarget(strategy: Strategy): Promise<void>;
  /** Under the lock, before the pipeline (Docker: send the image). */
  beforeMove(report: MigrationReport): Promise<void>;
  workload(tcp: TcpPolicy): Workload;
}
