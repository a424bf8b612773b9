/**
 * A container that runc runs by itself (no Docker, no containerd) as a migration workload. The
 * target restores it with `runc restore` from the same bundle path: its rootfs and config must
 * already be there (shared storage or a copy made beforehand), as a process tree's files must.
 * `leave-stopped` in runc.conf keeps the source's processes stopped after the dump (runc has no
 * flag for it), so a failure resumes them with SIGCONT and success ends them with `runc delete`.
 */
import { tlsConfLines } from '../criu/page-tls.js';
import type { Transport } from '../../transports/transport.js';
import { LEAVE_STOPPED, withRuncConf } from '../runc/runc-conf.js';
import { MigrateError } from '../../transports/errors.js';
import { criuTcpOptions, type TcpPolicy } from '../criu/tcp-policy.js';
import { describeTree, procStat, signalAll } from '../process/tree.js';
import type { PageServer } from '../criu/services.js';
import { lazyDumpThroughRunc } from '../runc/lazy-dump.js';
import { runcCheckpoint, runcDelete, runcRestore, runcState, type RuncState } from '../runc/runc.js';
import { restoredPidFile, type CheckpointOptions, type Dirs, type RestoreHooks, type Workload } from './workload.js';
import type { TargetCopy } from './host-guard.js';
import { NO_FILES, type FilesystemPass } from '../filesystem/tree-sync.js';
import { resetConnections, unlockNetwork } from './source-network.js';

export class RuncWorkload implements Workload {
  readonly kind = 'runc';
  readonly stoppedByCriu = true;
  readonly label: string;
  private restored = false;
  private pidfile?: string;

  /** CRIU options for its dump and restore, in runc.conf (the TCP policy's). */
  private readonly criuOptions: string[];
  /** Further CRIU options for the restore (prepareTarget). */
  private restoreOptions: string[] = [];

  constructor(private readonly source: Transport, private readonly target: Transport, private readonly root: string, private readonly state: RuncState,
    tcp: TcpPolicy = 'refuse') {
    this.label = `runc container ${state.id}`;
    this.criuOptions = criuTcpOptions(tcp);
  }

  /**
   * On a cgroup v2 target, runc (1.1) moves CRIU into the container's cgroup from the target's
   * config.json but does not tell CRIU that this is the new root (it passes cgroup roots for v1
   * only), so CRIU's default (soft) puts the restored processes back into the source's cgroup
   * path: outside the cgroup runc manages when the target's config names another one, and a
   * later `runc checkpoint` there (moving it on or back) fails ("Unseizable non-zombie").
   * `manage-cgroups=ignore` leaves them where runc put CRIU; runc applies the config's limits.
   */
  async prepareTarget(): Promise<void> {
    const fs = await this.target.exec(['stat', '-f', '-c', '%T', '/sys/fs/cgroup'], { allowFailure: true });
    if (fs.stdout.trim() === 'cgroup2fs') this.restoreOptions = ['manage-cgroups=ignore'];
  }

  /** Nothing is made on the target before the restore. */
  async guardTarget(): Promise<void> {}

  /** Its files must already be on the target (shared storage): nothing to copy. */
  async copyFilesBeforeFreeze(): Promise<FilesystemPass> { return NO_FILES; }
  async copyFilesWhileFrozen(): Promise<FilesystemPass> { return NO_FILES; }

  async checkpoint(dirs: Dirs, { pageServer, parent, stopping }: CheckpointOptions = {}): Promise<void> {
    // images-dir in runc.conf would override --image-path: point it at the same directory.
    await withRuncConf(this.source, { imagesLink: dirs.link, workDir: dirs.work, extra: [LEAVE_STOPPED, ...this.criuOptions, ...(pageServer ? tlsConfLines(dirs.tls) : [])] }, () =>
      runcCheckpoint(this.source, {
        root: this.root, id: this.state.id, imagesDir: dirs.images, workDir: dirs.work, parent, leaveRunning: true, pageServer, onStart: stopping,
      }));
  }

  async preDump(imagesDir: string, parent?: string): Promise<void> {
    await runcCheckpoint(this.source, { root: this.root, id: this.state.id, imagesDir, preDump: true, parent });
  }

  /**
   * Post-copy: `runc checkpoint` with `lazy-pages` in runc.conf (runc/lazy-dump.ts). runc writes
   * descriptors.json into the images directory before CRIU starts, so it travels with the rest.
   */
  checkpointLazy(dirs: Dirs, { parent, stopping, serving, address }: Omit<CheckpointOptions, 'pageServer'> = {}): Promise<PageServer> {
    return lazyDumpThroughRunc(this.source, { imagesLink: dirs.link, workDir: dirs.work, parent, label: this.label, criuOptions: this.criuOptions, serving, address, tls: dirs.tls }, () =>
      runcCheckpoint(this.source, { root: this.root, id: this.state.id, imagesDir: dirs.images, workDir: dirs.work, leaveRunning: true, onStart: stopping }));
  }

  /** `lazy`: runc restore --lazy-pages finds the lazy-pages daemon through its socket in dirs.work. */
  async restoreOnTarget(dirs: Dirs, lazy: boolean, { starting, restored }: RestoreHooks = {}): Promise<string> {
    this.restored = true; // from here on the target may hold it (preflight saw no container of this ID there)
    // runc has no flag for every CRIU option (tcp-close): they reach CRIU through runc.conf.
    await withRuncConf(this.target, { imagesLink: dirs.link, workDir: dirs.work, extra: [LEAVE_STOPPED, ...this.criuOptions, ...this.restoreOptions] }, async () => {
      await starting?.();
      await runcRestore(this.target, { root: this.root, id: this.state.id, bundle: this.state.bundle, imagesDir: dirs.images, workDir: dirs.work, lazyPages: lazy, pidFile: (this.pidfile = restoredPidFile(dirs)) });
    });
    await restored?.();
    const now = await runcState(this.target, this.root, this.state.id);
    if (now?.status !== 'running') {
      throw new MigrateError('RESTORE_FAILED', `${this.label} is ${now?.status ?? 'gone'} after restore`, { host: this.target.name, hint: `see restore.log in ${dirs.work} there` });
    }
    return this.state.id;
  }

  targetCopy(dirs: Dirs): TargetCopy {
    return { pidfile: restoredPidFile(dirs) };
  }

  async removeFromTarget(): Promise<void> {
    if (this.restored) await runcDelete(this.target, this.root, this.state.id);
    if (this.pidfile) await this.target.exec(['rm', '-f', this.pidfile]);
  }

  /** The container's processes on the source: its init (the same one, not a reused PID) and everything below it. */
  async stoppedPids(): Promise<number[]> {
    const now = await runcState(this.source, this.root, this.state.id);
    return now && now.pid === this.state.pid && now.pid > 0 ? (await describeTree(this.source, now.pid)).pids : [];
  }

  async unlockSourceNetwork(): Promise<void> {
    const [init] = await this.stoppedPids();
    if (init !== undefined) await unlockNetwork(this.source, init, this.label);
  }

  async resumeOnSource(): Promise<void> {
    const pids = await this.stoppedPids();
    if (pids.length === 0) throw new MigrateError('RESTORE_FAILED', `${this.label} has no processes left on the source`, { host: this.source.name });
    await signalAll(this.source, 'CONT', pids);
  }

  async runsOnSource(): Promise<boolean> {
    const [init] = await this.stoppedPids();
    if (init === undefined) return false;
    const st = await procStat(this.source, init);
    return st !== undefined && st.state !== 'T' && st.state !== 'Z';
  }

  async resetSourceConnections(): Promise<number | undefined> {
    return resetConnections(this.source, this.state.pid, this.label);
  }

  async finishSource(): Promise<void> {
    await runcDelete(this.source, this.root, this.state.id);
    if (this.pidfile) await this.target.exec(['rm', '-f', this.pidfile]);
  }

  resumeHint(): string {
    return `its processes are stopped there: kill -CONT them (runc --root ${this.root} ps ${this.state.id}), or runc --root ${this.root} delete -f ${this.state.id} if it runs on the target`;
  }
}
