/**
 * runc's side of a checkpoint: the state of one container, its pre-dump, dump and restore, on a
 * host through a transport. `root` is runc's state directory: /run/runc for containers runc
 * started itself, `<dockerd exec-root>/runtime-runc/moby` for Docker's (containerd's shim runs
 * runc with that root). A failure raises CRIU_FAILED with the `Error` lines of CRIU's log.
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { runWithCriuLog } from '../criu/run.js';
import type { Endpoint } from '../transfer/page-relay.js';

/** runc's default state directory. */
export const DEFAULT_RUNC_ROOT = '/run/runc';

export interface RuncState {
  id: string;
  /** The container's init on the host (0 when it is not running). */
  pid: number;
  /** created, running, paused or stopped. */
  status: string;
  bundle: string;
}

/** The container's state, or undefined when runc does not know it under `root`. */
export async function runcState(t: Transport, root: string, id: string): Promise<RuncState | undefined> {
  const r = await t.exec(['runc', '--root', root, 'state', id], { allowFailure: true });
  if (r.exitCode !== 0) return undefined;
  const s = JSON.parse(r.stdout) as { id: string; pid: number; status: string; bundle: string };
  return { id: s.id, pid: s.pid, status: s.status, bundle: s.bundle };
}

export interface RuncCheckpointOptions {
  root: string;
  id: string;
  imagesDir: string;
  /** CRIU's log and stats go here (default: imagesDir). */
  workDir?: string;
  /** Memory only, the container runs on (soft-dirty tracking). */
  preDump?: boolean;
  /** The previous pre-dump, relative to imagesDir: only pages dirtied since are written (runc adds --track-mem). */
  parent?: string;
  /** Do not end the container after the dump (with `leave-stopped` in runc.conf: it stays stopped). */
  leaveRunning?: boolean;
  /** Send the pages to this CRIU page server instead of writing them. */
  pageServer?: Endpoint;
  /** Called right before runc is started (the freeze begins soon after). */
  onStart?: () => void;
}

export function runcCheckpointArgs(o: RuncCheckpointOptions): string[] {
  const args = ['runc', '--root', o.root, 'checkpoint', '--image-path', o.imagesDir];
  if (o.workDir) args.push('--work-path', o.workDir);
  if (o.preDump) args.push('--pre-dump');
  if (o.parent) args.push('--parent-path', o.parent);
  if (o.leaveRunning && !o.preDump) args.push('--leave-running');
  if (o.pageServer) args.push('--page-server', `${o.pageServer.host}:${o.pageServer.port}`);
  return [...args, o.id];
}

const run = (t: Transport, args: string[], what: string, log: string): Promise<void> => runWithCriuLog(t, args, what, log);

export async function runcCheckpoint(t: Transport, o: RuncCheckpointOptions): Promise<void> {
  // Images hold the container's whole memory: private to root from the first byte.
  await t.exec(['mkdir', '-p', '-m', '0700', o.imagesDir, ...(o.workDir ? [o.workDir] : [])]);
  o.onStart?.();
  // runc names CRIU's log dump.log for pre-dumps too.
  await run(t, runcCheckpointArgs(o), `runc ${o.preDump ? 'pre-dump' : 'checkpoint'} of container ${o.id}`, posix.join(o.workDir ?? o.imagesDir, 'dump.log'));
}

export interface RuncRestoreOptions {
  root: string;
  id: string;
  bundle: string;
  imagesDir: string;
  workDir?: string;
  /** The memory comes from a lazy-pages daemon listening in workDir (userfaultfd). */
  lazyPages?: boolean;
  /** Where runc writes the PID of the restored container's init. */
  pidFile?: string;
}

/** Restores the container detached (its stdio as recorded in the images' descriptors.json); returns once it runs. */
export async function runcRestore(t: Transport, o: RuncRestoreOptions): Promise<void> {
  const args = ['runc', '--root', o.root, 'restore', '--detach', '--image-path', o.imagesDir, '--bundle', o.bundle];
  if (o.workDir) args.push('--work-path', o.workDir);
  if (o.lazyPages) args.push('--lazy-pages');
  if (o.pidFile) args.push('--pid-file', o.pidFile);
  await run(t, [...args, o.id], `runc restore of container ${o.id}`, posix.join(o.workDir ?? o.imagesDir, 'restore.log'));
}

/** Ends the container and removes runc's state of it (allowed to fail: it may be gone already). */
export async function runcDelete(t: Transport, root: string, id: string): Promise<void> {
  await t.exec(['runc', '--root', root, 'delete', '--force', id], { allowFailure: true });
}
