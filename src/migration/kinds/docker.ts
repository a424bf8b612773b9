/**
 * A Docker container, for the front-end: found with `docker inspect`, refused when CRIU cannot
 * move it (a terminal, --rm, processes from docker exec...), and on the target: its image (or
 * --transfer-image), a free name, everything its configuration needs (twin.ts), and room for
 * its files (container-fs.ts).
 */
import { inspectContainer, type ContainerInfo } from '../../docker/container.js';
import { planFilesystem, type FilesystemOptions, type FilesystemPlan } from '../../docker/container-fs.js';
import { sendImage } from '../../docker/image-transfer.js';
import { containerNetworks, isOwnNetwork, type TwinSpec } from '../../docker/twin.js';
import { planTwin } from '../../docker/twin-target.js';
import { dockerRuncRoot } from '../../docker/runc-root.js';
import type { TcpPolicy } from '../../criu/tcp-policy.js';
import { ignoreEvents } from '../../events.js';
import { describeTree } from '../../process/tree.js';
import { DockerWorkload } from '../docker-workload.js';
import { requireOneTree } from '../dumpable.js';
import { defaultWorkRoot, type MigrationOptions } from '../options.js';
import { containerProcesses, hasImage, requireDockerTarget, requireMigratable, residentBytes } from '../preflight.js';
import type { MigrationReport } from '../report.js';

type NetworkAddress = NonNullable<MigrationReport['container']>['networks'][number];
import type { Strategy } from '../strategy.js';
import type { WorkloadAdapter, WorkloadFacts } from './adapter.js';
import { workloadLockPath } from '../../host-lock.js';

export interface DockerOptions extends Pick<FilesystemOptions, 'volumeMap' | 'force' | 'copyBindMounts'> {
  container: string;
  /** Name on the target (default: the same name). */
  name?: string;
  /** Keep the source container (exited) after a successful migration. */
  keepSource?: boolean;
  /** Send the image to the target when it lacks it (docker save | docker load). */
  transferImage?: boolean;
}

/** A container's lock on the source and the prefix of its runs' directories (and guard locks), by its ID. */
export function containerKeys(id: string): { lockPath: string; runPrefix: string } {
  const short = id.slice(0, 12);
  return { lockPath: workloadLockPath(`container-${short}`), runPrefix: short };
}

export class DockerAdapter implements WorkloadAdapter {
  readonly kind = 'docker';
  readonly tools = ['docker'];
  readonly name: string;
  readonly keepSource: boolean;
  readonly recoverable: { container: string };
  private c?: ContainerInfo;
  private sendImageFirst = false;
  private runcRoot?: string;
  private plan?: FilesystemPlan;
  private twin?: TwinSpec;
  /** Its networks' addresses, before and (once it ran on the target) after: the report's. */
  private networks: NetworkAddress[] = [];
  private readonly fsOptions: FilesystemOptions;

  constructor(private readonly o: DockerOptions & MigrationOptions) {
    this.name = o.container;
    this.recoverable = { container: o.container };
    this.keepSource = o.keepSource ?? false;
    this.fsOptions = {
      volumeMap: o.volumeMap, force: o.force, copyBindMounts: o.copyBindMounts, workRoot: o.workRoot ?? defaultWorkRoot(), zstdLevel: o.zstdLevel, signal: o.signal,
    };
  }

  async inspect(): Promise<WorkloadFacts> {
    const { source } = this.o;
    const c = (this.c = await inspectContainer(source, this.o.container));
    this.networks = containerNetworks(c.raw).filter(([n]) => isOwnNetwork(n)).map(([name, e]) => {
      const before = e.IPAddress || e.GlobalIPv6Address || null;
      return { name, address_before: before, address_after: null, address_changed: null };
    });
    requireMigratable(c, source.name);
    const label = `container ${c.name}`;
    const { pids } = await describeTree(source, c.raw.State.Pid);
    await requireOneTree(source, label, pids, await containerProcesses(source, c.id));
    return { name: c.name, label, pids, rss: await residentBytes(source, c.id), ...containerKeys(c.id) };
  }

  async checkTarget(strategy: Strategy): Promise<void> {
    const { source, target } = this.o;
    const c = this.c!;
    // Pre-copy pre-dumps with runc directly: its state of the container must be found first.
    if (strategy === 'precopy' || strategy === 'hybrid') this.runcRoot = await dockerRuncRoot(source, c.id);
    this.sendImageFirst = this.o.transferImage === true && !(await hasImage(target, c.image));
    await requireDockerTarget(target, c, this.o.name ?? c.name, this.sendImageFirst);
    this.twin = await planTwin(source, target, c.raw, { name: this.o.name ?? c.name, volumeMap: this.o.volumeMap });
    this.plan = await planFilesystem(source, target, c, this.fsOptions);
  }

  async beforeMove(report: MigrationReport): Promise<void> {
    report.container = { changes: this.twin!.changes, networks: this.networks };
    if (!this.sendImageFirst) return;
    const { source, target } = this.o;
    (this.o.onEvent ?? ignoreEvents)({ kind: 'step', step: 'image', host: target.name, detail: `sending image ${this.c!.image}` });
    const started = Date.now();
    report.bytes.image = (await sendImage(source, target, this.c!.image, this.o.signal)).wireBytes;
    report.phases_ms.image = Date.now() - started;
  }

  workload(tcp: TcpPolicy): DockerWorkload {
    const c = this.c!;
    return new DockerWorkload(this.o.source, this.o.target, c, this.o.name ?? c.name, this.plan!, this.twin!, this.networks, this.fsOptions, this.runcRoot, tcp);
  }
}
