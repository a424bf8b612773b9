/**
 * What a cold migration needs from the thing it moves. The orchestration (cold.ts) is the same
 * for a Docker container and a plain process tree; only these steps differ.
 */
import type { Endpoint } from '../transfer/page-tee.js';

/** A checkpoint directory on one host: images, the symlink runc.conf needs, CRIU's work dir. */
export interface Dirs { root: string; images: string; link: string; work: string }

export function dirsUnder(root: string): Dirs {
  return { root, images: `${root}/images`, link: `${root}/images.link`, work: `${root}/work` };
}

export interface Workload {
  readonly kind: 'docker' | 'process-tree';
  /** How messages name it: "container web", "process tree 4242". */
  readonly label: string;
  /** Before the freeze: what the target needs ready (Docker: the twin container). */
  prepareTarget(): Promise<void>;
  /** Freezes and dumps into `dirs` on the source; memory pages go to `pageServer` when given. */
  checkpoint(dirs: Dirs, pageServer?: Endpoint): Promise<void>;
  /** Restores from `dirs` on the target and confirms it runs; returns its name there. */
  restoreOnTarget(dirs: Dirs): Promise<string>;
  /** Removes whatever the target holds of the workload. */
  removeFromTarget(): Promise<void>;
  /** Puts the workload back on the source from the local checkpoint. */
  restoreOnSource(dirs: Dirs): Promise<void>;
  /** Whether it runs on the source (a failed dump leaves it running: CRIU resumes the tree). */
  runsOnSource(): Promise<boolean>;
  /** After a successful migration: remove (or keep) what is left on the source. */
  finishSource(keep: boolean): Promise<void>;
  /** How to restore by hand from images kept after a failed rollback. */
  manualRestoreHint(dirs: Dirs): string;
}
