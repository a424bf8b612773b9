/**
 * A Docker container as a migration workload. Docker stays in charge on both hosts: the twin
 * is made through its Engine API from the source's own configuration (twin.ts), the checkpoint
 * with `docker checkpoint create`, the restore with `docker start --checkpoint`, so `docker ps`,
 * `docker checkpoint ls` and `docker stop` keep working. A scoped runc.conf override (docker/runc-conf.ts) makes CRIU read and write the
 * images in migrate's own directory instead of Docker's slow content-store copy, sends the
 * pages to a page server when one is given, and leaves the container's processes stopped:
 * `docker checkpoint create --leave-running` keeps Docker's container (and its processes), and
 * `leave-stopped` in runc.conf (read after runc's RPC options) makes CRIU SIGSTOP them instead
 * of letting them run on (verified: State T, `docker ps` says Up, SIGCONT resumes the counter).
 * Pre-copy has no Docker verb: its rounds run `runc checkpoint --pre-dump` on the container under
 * Docker's own runc root, and the final dump builds on them through runc.conf.
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { readFileVia, writeFileVia } from '../../transports/files.js';
import type Docker from 'dockerode';
import type { ContainerInfo } from '../docker/container.js';
import { engineCall } from '../docker/engine.js';
import { daemonStorage, deleteCheckpoint, findContainer, initPid, isRunning, killContainer, removeContainer } from '../docker/containers.js';
import type { TwinSpec } from '../docker/twin.js';
import { restoreMountOptions } from '../docker/restore-mounts.js';
import { removeRestoreCopies, restoreStamp } from '../docker/restore-copies.js';
import { tlsConfLines } from '../criu/page-tls.js';
import type { MigrationReport } from './report.js';
import { ContainerFiles, type FilesystemOptions, type FilesystemPlan } from '../docker/container-fs.js';
import type { FilesystemPass } from '../filesystem/tree-sync.js';
import { logErrors } from '../criu/run.js';
import type { PageServer } from '../criu/services.js';
import { LEAVE_STOPPED, withRuncConf } from '../runc/runc-conf.js';
import { runcCheckpoint } from '../runc/runc.js';
import { lazyDumpThroughRunc, onParent } from '../runc/lazy-dump.js';
import { dockerRuncRoot } from '../docker/runc-root.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';
import { resetConnections, unlockNetwork } from './source-network.js';
import { criuTcpOptions, type TcpPolicy } from '../criu/tcp-policy.js';
import { describeTree, procStat, signalAll } from '../process/tree.js';
import { isStaleTwin } from './preflight.js';
import type { CheckpointOptions, Dirs, RestoreHooks, Workload } from './workload.js';
import type { HostGuard, TargetCopy } from './host-guard.js';

type NetworkAddress = NonNullable<MigrationReport['container']>['networks'][number];

/** Name of the checkpoint in Docker's bookkeeping on both hosts. */
export const CHECKPOINT = 'migrate';

const dockerRoot = async (t: Transport): Promise<string> => (await daemonStorage(t)).root;

const checkpointDir = (root: string, id: string) => posix.join(root, 'containers', id, 'checkpoints', CHECKPOINT);

export class DockerWorkload implements Workload {
  readonly kind = 'docker';
  readonly stoppedByCriu = false;
  readonly label: string;
  private targetId?: string;
  /** Docker's checkpoint directories of the container on both hosts (found before the freeze). */
  private sourceCheckpoint?: string;
  private targetCheckpoint?: string;
  /** Post-copy: runc's descriptors.json, built before Docker has written it (see checkpointLazy). */
  private descriptors?: string;
  /** Pre-copy: runc's state directory of Docker's containers on the source. */
  private runcRoot?: string;

  /** CRIU options for its restore: the real files of symlinked bind sources (restore-mounts.ts). */
  private restoreMounts: string[] = [];
  /** CRIU options for its dump and restore, in runc.conf (the TCP policy's). */
  private readonly criuOptions: string[];
  /** Its writable layer, volumes and copied bind mounts (container-fs.ts). */
  private readonly files: ContainerFiles;

  constructor(private readonly source: Transport, private readonly target: Transport, private readonly c: ContainerInfo, private readonly name: string,
    private readonly plan: FilesystemPlan, private readonly twin: TwinSpec, private readonly networks: NetworkAddress[] = [],
    filesOptions: FilesystemOptions = {}, runcRoot?: string, tcp: TcpPolicy = 'refuse') {
    this.runcRoot = runcRoot;
    this.criuOptions = criuTcpOptions(tcp);
    this.label = `container ${c.name}`;
    this.files = new ContainerFiles(source, target, c, plan, filesOptions);
  }

  async prepareTarget(): Promise<void> {
    // Leftovers of a run that died (we hold the container's lock): its twin, its checkpoint.
    if (await isStaleTwin(this.target, this.name, this.c.id)) await removeContainer(this.target, this.name, { volumes: true });
    await deleteCheckpoint(this.source, this.c.id, CHECKPOINT);
    await this.files.createVolumes();
    const [id, srcRoot, dstRoot, mounts] = await Promise.all([this.createTwin(), dockerRoot(this.source), dockerRoot(this.target), restoreMountOptions(this.target, this.c.raw)]);
    this.restoreMounts = mounts;
    this.sourceCheckpoint = checkpointDir(srcRoot, this.c.id);
    this.targetCheckpoint = checkpointDir(dstRoot, id);
    await this.target.exec(['mkdir', '-p', '-m', '0700', this.targetCheckpoint]);
    await this.files.attach(id);
  }

  /** The twin from the source's own configuration (twin.ts), on all of its networks; its ID. */
  private async createTwin(): Promise<string> {
    const { create, connect } = this.twin;
    const twin = await engineCall(this.target, `create container ${this.name}`, (d) => d.createContainer(create as Docker.ContainerCreateOptions));
    this.targetId = twin.id;
    for (const { network, endpoint } of connect) {
      await engineCall(this.target, `connect container ${this.name} to network ${network}`, (d) => d.getNetwork(network).connect({ Container: twin.id, EndpointConfig: endpoint as Docker.EndpointSettings }));
    }
    return twin.id;
  }

  /** The twin, to be removed should migrate die before it ran (volumes it made stay: recover handles them). */
  async guardTarget(guard: HostGuard): Promise<void> {
    if (this.targetId) await guard.twin(this.targetId);
  }

  /** The twin has never run, so its writable layer and volumes can be filled directly. */
  copyFilesBeforeFreeze(): Promise<FilesystemPass> {
    return this.files.beforeFreeze();
  }

  copyFilesWhileFrozen(): Promise<FilesystemPass> {
    return this.files.whileFrozen();
  }

  /**
   * Pre-copy: runc pre-dumps the container Docker runs, under Docker's runc root (containerd
   * does not offer pre-dumps); the final `docker checkpoint create` builds on the last one
   * (track-mem and prev-images-dir in runc.conf).
   */
  async preDump(imagesDir: string, parent?: string): Promise<void> {
    this.runcRoot ??= await dockerRuncRoot(this.source, this.c.id);
    await runcCheckpoint(this.source, { root: this.runcRoot, id: this.c.id, imagesDir, preDump: true, parent });
  }

  async checkpoint(dirs: Dirs, { pageServer, parent, stopping }: CheckpointOptions = {}): Promise<void> {
    const extra = [LEAVE_STOPPED, ...this.criuOptions, ...onParent(parent), ...(pageServer ? ['page-server', `address ${pageServer.host}`, `port ${pageServer.port}`, ...tlsConfLines(dirs.tls)] : [])];
    try {
      await withRuncConf(this.source, { imagesLink: dirs.link, workDir: dirs.work, extra }, () => {
        stopping?.();
        return this.source.exec(['docker', 'checkpoint', 'create', '--leave-running', this.c.id, CHECKPOINT], { outlive: true });
      });
    } catch (e) {
      // Docker names a log in containerd's directory; with our work-dir CRIU wrote it here.
      const lines = await logErrors(this.source, posix.join(dirs.work, 'dump.log'));
      if (lines.length === 0) throw e;
      throw new MigrateError('CRIU_FAILED', `checkpoint of ${this.label} failed`, { host: this.source.name, stderr: lines.join('\n'), cause: e });
    }
  }

  /**
   * Post-copy: `docker checkpoint create` with `lazy-pages` in runc.conf (runc/lazy-dump.ts).
   * Docker writes descriptors.json only when the command returns, so it is built here as runc
   * builds it: the targets of the container init's fds 0-2.
   */
  async checkpointLazy(dirs: Dirs, { parent, stopping, serving, address }: Omit<CheckpointOptions, 'pageServer'> = {}): Promise<PageServer> {
    await this.prepareDescriptors();
    return lazyDumpThroughRunc(this.source, { imagesLink: dirs.link, workDir: dirs.work, parent, label: this.label, criuOptions: this.criuOptions, serving, address, tls: dirs.tls }, () => {
      stopping?.();
      return this.source.exec(['docker', 'checkpoint', 'create', '--leave-running', this.c.id, CHECKPOINT], { outlive: true });
    });
  }

  /** runc's descriptors.json as runc builds it: the targets of the container init's fds 0-2 (they do not change while it runs). */
  async prepareDescriptors(): Promise<void> {
    if (this.descriptors) return;
    const init = await initPid(this.source, this.c.id);
    const fds = await this.source.exec(hostScript('read-stdio-links', String(init)));
    this.descriptors = JSON.stringify(fds.stdout.trim().split('\n'));
  }

  async restoreOnTarget(dirs: Dirs, lazy: boolean, { starting, restored }: RestoreHooks = {}): Promise<string> {
    const id = this.targetId!;
    // runc needs descriptors.json (the container's stdio), which Docker keeps in its own
    // checkpoint directory, not in CRIU's images dir.
    const descriptors = this.descriptors ?? await readFileVia(this.source, posix.join(this.sourceCheckpoint!, 'descriptors.json'));
    // Stamped, so that containerd's copy of it can be found and removed afterwards (restore-copies.ts).
    const stamp = restoreStamp();
    // Written while runc.conf is taken over: both are in the freeze.
    const written = writeFileVia(this.target, posix.join(this.targetCheckpoint!, 'descriptors.json'), descriptors, '0600', stamp);
    written.catch(() => {}); // awaited before the restore; a failure to take runc.conf ends the run without it
    // Litter, not the workload: a failure to remove it fails nothing.
    const removeCopies = () => removeRestoreCopies(this.target, stamp).catch(() => 0);
    try {
      await withRuncConf(this.target, { imagesLink: dirs.link, workDir: dirs.work, extra: [LEAVE_STOPPED, ...(lazy ? ['lazy-pages'] : []), ...this.criuOptions, ...this.restoreMounts] }, async () => {
        await Promise.all([written, starting?.()]);
        await this.target.exec(['docker', 'start', '--checkpoint', CHECKPOINT, id], { outlive: true });
        // Its init's PID through the Engine API (~5 ms): the guard's `docker inspect` takes ~40.
        await restored?.(await initPid(this.target, id).catch(() => 0) || undefined); // it runs now; putting runc.conf back is not part of its freeze
      });
    } catch (e) {
      await removeCopies();
      throw e;
    }
    const [twin] = await Promise.all([findContainer(this.target, id), removeCopies()]);
    if (!twin?.State.Running) {
      throw new MigrateError('RESTORE_FAILED', `container ${this.name} is not running after restore`, { host: this.target.name, hint: 'see docker logs there' });
    }
    for (const n of this.networks) {
      const e = twin.NetworkSettings?.Networks?.[n.name];
      n.address_after = e?.IPAddress || e?.GlobalIPv6Address || null;
      n.address_changed = n.address_after !== n.address_before;
    }
    return this.name;
  }

  /** The twin with its anonymous volumes, and the named volumes this run created. */
  targetCopy(): TargetCopy {
    return { twin: this.targetId! };
  }

  async removeFromTarget(): Promise<void> {
    if (this.targetId) await removeContainer(this.target, this.targetId, { volumes: true }).catch(() => {});
    await this.files.removeCreated();
  }

  /** The container's processes on the source (its init and everything below it). */
  async stoppedPids(): Promise<number[]> {
    const init = await initPid(this.source, this.c.id);
    return init > 0 ? (await describeTree(this.source, init)).pids : [];
  }

  async unlockSourceNetwork(): Promise<void> {
    const init = await initPid(this.source, this.c.id);
    if (init > 0) await unlockNetwork(this.source, init, this.label);
  }

  async resumeOnSource(): Promise<void> {
    const pids = await this.stoppedPids();
    if (pids.length === 0) throw new MigrateError('RESTORE_FAILED', `${this.label} has no processes left on the source`, { host: this.source.name });
    await signalAll(this.source, 'CONT', pids);
    await deleteCheckpoint(this.source, this.c.id, CHECKPOINT);
  }

  async runsOnSource(): Promise<boolean> {
    if (!(await isRunning(this.source, this.c.id))) return false;
    const [init] = await this.stoppedPids();
    return init !== undefined && (await procStat(this.source, init))?.state !== 'T';
  }

  async resetSourceConnections(): Promise<number | undefined> {
    return resetConnections(this.source, await initPid(this.source, this.c.id), this.label);
  }

  async finishSource(keep: boolean): Promise<void> {
    await deleteCheckpoint(this.source, this.c.id, CHECKPOINT);
    // SIGKILL reaches stopped processes; the container ends as exited (kept) or is removed.
    await (keep ? killContainer(this.source, this.c.id) : removeContainer(this.source, this.c.id)).catch(() => {});
  }

  resumeHint(): string {
    return `its processes are stopped there: kill -CONT them (docker top ${this.c.name}), or docker rm -f ${this.c.name} if it runs on the target`;
  }
}
