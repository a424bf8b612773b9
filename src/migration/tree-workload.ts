/**
 * A plain process tree as a migration workload, checkpointed with CRIU directly. The tree must
 * be restorable under its PIDs on the target: either it is the init of its own PID namespace
 * (`unshare --pid --fork`, checked in preflight), or its PIDs are free there. Files it holds
 * open must exist at the same paths on the target (shared storage); CRIU refuses otherwise.
 */
import { tlsArgs } from '../criu/page-tls.js';
import type { Transport } from '../../transports/transport.js';
import { dump, restore } from '../criu/run.js';
import { startLazyDump, type PageServer } from '../criu/services.js';
import { MigrateError } from '../../transports/errors.js';
import { asCriuFlags, criuTcpOptions, type TcpPolicy } from '../criu/tcp-policy.js';
import { describeTree, procStat, signalAll, type TreeInfo } from '../process/tree.js';
import { restoredPidFile, type CheckpointOptions, type Dirs, type RestoreHooks, type Workload } from './workload.js';
import type { TargetCopy } from './host-guard.js';
import { unlockNetwork } from './source-network.js';
import { NO_FILES, type FilesystemPass } from '../filesystem/tree-sync.js';

export class TreeWorkload implements Workload {
  readonly kind = 'process-tree';
  readonly stoppedByCriu = true;
  readonly label: string;
  private restoredPid?: number;
  private pidfile?: string;

  /** criu flags for its dump and restore (the TCP policy's). */
  private readonly criuFlags: string[];

  constructor(private readonly source: Transport, private readonly target: Transport, private readonly tree: TreeInfo, private readonly startTime: string,
    tcp: TcpPolicy = 'refuse') {
    this.label = `process tree ${tree.pids[0]}`;
    this.criuFlags = asCriuFlags(criuTcpOptions(tcp));
  }

  async prepareTarget(): Promise<void> {}

  /** Nothing is made on the target before the restore. */
  async guardTarget(): Promise<void> {}

  /** Its files must already be on the target (shared storage): nothing to copy. */
  async copyFilesBeforeFreeze(): Promise<FilesystemPass> { return NO_FILES; }
  async copyFilesWhileFrozen(): Promise<FilesystemPass> { return NO_FILES; }

  async checkpoint(dirs: Dirs, { pageServer, parent, stopping }: CheckpointOptions = {}): Promise<void> {
    await dump(this.source, {
      pid: this.tree.pids[0]!, imagesDir: dirs.images, workDir: dirs.work, leaveStopped: true,
      pageServer: pageServer && { address: pageServer.host, port: pageServer.port },
      ...(parent ? { trackMem: true, prevImagesDir: parent } : {}),
      onStart: stopping, extraArgs: [...this.criuFlags, ...(pageServer ? tlsArgs(dirs.tls) : [])],
    });
  }

  async preDump(imagesDir: string, parent?: string): Promise<void> {
    await dump(this.source, { pid: this.tree.pids[0]!, imagesDir, preDump: true, trackMem: true, prevImagesDir: parent });
  }

  checkpointLazy(dirs: Dirs, { parent, stopping, serving, address }: Omit<CheckpointOptions, 'pageServer'> = {}): Promise<PageServer> {
    stopping?.();
    return startLazyDump(this.source, this.tree.pids[0]!, { imagesDir: dirs.images, workDir: dirs.work, tls: dirs.tls }, parent, this.criuFlags, serving, address);
  }

  async restoreOnTarget(dirs: Dirs, lazy: boolean, { starting, restored }: RestoreHooks = {}): Promise<string> {
    const pidfile = (this.pidfile = restoredPidFile(dirs));
    await starting?.();
    await restore(this.target, { imagesDir: dirs.images, workDir: dirs.work, pidfile, lazyPages: lazy, leaveStopped: true, extraArgs: this.criuFlags });
    await restored?.();
    this.restoredPid = Number((await this.target.exec(['cat', pidfile])).stdout.trim());
    const st = await procStat(this.target, this.restoredPid);
    if (!st || st.state === 'Z') {
      throw new MigrateError('RESTORE_FAILED', `the restored tree (PID ${this.restoredPid}) is not running`, { host: this.target.name });
    }
    return `pid ${this.restoredPid}`;
  }

  targetCopy(dirs: Dirs): TargetCopy {
    return { pidfile: restoredPidFile(dirs) };
  }

  async removeFromTarget(): Promise<void> {
    if (this.restoredPid) await this.target.exec(['kill', '-KILL', String(this.restoredPid)], { allowFailure: true });
    if (this.pidfile) await this.target.exec(['rm', '-f', this.pidfile]);
  }

  /** The same processes (not a reused PID) are still there. */
  private async alive(): Promise<string | undefined> {
    const st = await procStat(this.source, this.tree.pids[0]!);
    return st && st.startTime === this.startTime ? st.state : undefined;
  }

  async stoppedPids(): Promise<number[]> {
    return (await describeTree(this.source, this.tree.pids[0]!)).pids;
  }

  /** `--tcp keep`: CRIU's per-connection locks in the host's namespace, and its sockets in repair mode. */
  async unlockSourceNetwork(): Promise<void> {
    if (await this.alive()) await unlockNetwork(this.source, this.tree.pids[0]!, this.label);
  }

  async resumeOnSource(): Promise<void> {
    if (!(await this.alive())) throw new MigrateError('RESTORE_FAILED', `${this.label} is gone from the source`, { host: this.source.name });
    await signalAll(this.source, 'CONT', await this.stoppedPids());
  }

  async runsOnSource(): Promise<boolean> {
    const state = await this.alive();
    return state !== undefined && state !== 'T' && state !== 'Z';
  }

  async finishSource(): Promise<void> {
    if (await this.alive()) await signalAll(this.source, 'KILL', await this.stoppedPids()).catch(() => {});
    if (this.pidfile) await this.target.exec(['rm', '-f', this.pidfile]);
  }

  resumeHint(): string {
    return `it is stopped there: kill -CONT ${this.tree.pids.join(' ')}`;
  }
}
