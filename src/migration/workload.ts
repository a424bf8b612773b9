/**
 * What the pipeline (pipeline/run.ts) needs from the thing it moves: a Docker container, a
 * container runc runs by itself, a plain process tree. The pipeline is the same for all of them;
 * only these steps differ.
 */
import { tlsFilesIn, type TlsFiles } from '../criu/page-tls.js';
import type { PageServer } from '../criu/services.js';
import type { FilesystemPass } from '../filesystem/tree-sync.js';
import type { HostGuard, TargetCopy } from './host-guard.js';
import type { Endpoint } from '../transfer/page-relay.js';

/** What a checkpoint gets besides its directories. */
export interface CheckpointOptions {
  /** Memory pages go to this page server (cold, page-server mode). */
  pageServer?: Endpoint;
  /** Pre-copy: the last pre-dump's directory, relative to dirs.images; only pages dirtied since are dumped. */
  parent?: string;
  /** Called right before the command that freezes the workload is issued. */
  stopping?: () => void;
  /** Lazy dumps: awaited with the address and port its page server will listen on, before the dump starts. */
  serving?: (at: Endpoint) => Promise<void>;
  /** Lazy dumps: the source's address its page server listens on (a direct page channel); loopback otherwise. */
  address?: string;
}

/** A run's directory on both hosts: its images, the images-dir symlink runc.conf names, CRIU's work dir, and the page channel's credential (criu/page-tls.ts). */
export interface Dirs { root: string; images: string; link: string; work: string; tls: TlsFiles }

export function dirsUnder(root: string): Dirs {
  return { root, images: `${root}/images`, link: `${root}/images.link`, work: `${root}/work`, tls: tlsFilesIn(root) };
}

/**
 * Where a restore on the target writes the PID of the restored tree's root (trees, runc): beside
 * the run's directory, not in it, so that it outlives the directory when migrate died during the
 * restore: `migrate recover` finds what that restore left running by it.
 */
export const restoredPidFile = (dirs: Dirs): string => `${dirs.root}.pid`;

export interface RestoreHooks {
  /**
   * Awaited right before the command that restores it is sent, once everything it needs is in
   * place (run.ts tells the target's guard what the restore will make).
   */
  starting?: () => Promise<void>;
  /**
   * Awaited as soon as the restore command returned. The restore leaves the copy stopped
   * (CRIU's leave-stopped), so that migrate's death during it never lets two
   * copies run; this hook resumes it — the hand-over between the hosts' guards (run.ts) — and
   * the freeze ends when it returns. `pid`: the copy's root PID on the target, when the workload
   * learnt it faster than the guard could (Docker: the Engine API over migrate's open connection,
   * where the guard would start the Docker CLI).
   */
  restored?: (pid?: number) => Promise<void>;
}

/** Docker's containers, containers runc runs by itself, plain process trees. */
export type WorkloadKind = 'docker' | 'runc' | 'process-tree';

/**
 * The checkpoint leaves the workload stopped (SIGSTOP) on the source, memory and all, until the
 * target runs it: a failure after the freeze resumes it with SIGCONT (no restore, nothing to
 * copy back), success ends it with SIGKILL. It never runs in two places: the source copy only
 * continues when the target's did not start.
 */
export interface Workload {
  readonly kind: WorkloadKind;
  /** How messages name it: "container web", "process tree 4242". */
  readonly label: string;
  /**
   * Whether CRIU is what stops it, so that CRIU's dump log says when its freeze began
   * (pipeline/freeze-start.ts). Not for Docker: containerd pauses the container (cgroup freezer)
   * before runc even starts CRIU, and nothing records when.
   */
  readonly stoppedByCriu: boolean;
  /** Before the freeze: what the target needs ready (Docker: the twin container). */
  prepareTarget(): Promise<void>;
  /** Tells the target's guard what prepareTarget made, to remove should migrate die before the restore. */
  guardTarget(guard: HostGuard): Promise<void>;
  /**
   * Files the workload keeps outside its memory that must reach the target too (Docker: the
   * writable layer and volumes; a process tree's files must already be there). Copied whole
   * after prepareTarget while it runs, then only what changed while it is frozen.
   */
  copyFilesBeforeFreeze(): Promise<FilesystemPass>;
  copyFilesWhileFrozen(): Promise<FilesystemPass>;
  /** Freezes and dumps into `dirs` on the source (see CheckpointOptions); leaves it stopped. */
  checkpoint(dirs: Dirs, o?: CheckpointOptions): Promise<void>;
  /**
   * Pre-copy: dumps the memory into `imagesDir` while the workload runs on
   * (soft-dirty tracking); with `parent`, only what changed since that pre-dump.
   */
  preDump(imagesDir: string, parent?: string): Promise<void>;
  /**
   * Post-copy: freezes and dumps everything but the memory into `dirs`, then
   * serves the memory from a page server on the source until the target has all of it.
   */
  checkpointLazy(dirs: Dirs, o?: Omit<CheckpointOptions, 'pageServer'>): Promise<PageServer>;
  /**
   * Restores from `dirs` on the target and confirms it runs; returns its name there. `lazy`: a
   * lazy-pages daemon (already listening in dirs.work) fills the memory after it resumed.
   */
  restoreOnTarget(dirs: Dirs, lazy: boolean, hooks?: RestoreHooks): Promise<string>;
  /** Its copy on the target, once the restore began, as the target's guard can find it to kill it. */
  targetCopy(dirs: Dirs): TargetCopy;
  /** Removes whatever the target holds of the workload. */
  removeFromTarget(): Promise<void>;
  /** The PIDs of the stopped workload on the source (after the checkpoint). */
  stoppedPids(): Promise<number[]>;
  /**
   * Rollback, before resumeOnSource: lifts the network lock CRIU's dump left (a leave-stopped
   * dump keeps it): its own network namespace's, and the connections `--tcp keep` left in repair
   * mode (unlock-network.sh).
   */
  unlockSourceNetwork?(): Promise<void>;
  /** Rollback: the stopped workload continues on the source. */
  resumeOnSource(): Promise<void>;
  /** Whether it runs (not stopped) on the source: a failed dump leaves it running, CRIU resumes the tree. */
  runsOnSource(): Promise<boolean>;
  /**
   * Under `--tcp close` (run.ts decides), once the copy on the target runs: resets the stopped
   * source copy's established TCP connections, so that its clients learn at once and reconnect
   * instead of waiting on a peer that stays stopped (post-copy serves its memory from there for a
   * while). Resolves to how many it reset; undefined when its network namespace is not its own.
   * Absent for workloads in the host's namespace (process trees).
   */
  resetSourceConnections?(): Promise<number | undefined>;
  /** After a successful migration: end the stopped source copy (a container is kept, exited, with `keep`). */
  finishSource(keep: boolean): Promise<void>;
  /** How to resume it by hand if even SIGCONT failed. */
  resumeHint(): string;
}
