/**
 * A container runc runs by itself (`--runc ID`), for the front-end: runc knows it and it runs on
 * the source; the target has its bundle at the same path and no container of that ID.
 */
import { MigrateError } from '../../../transports/errors.js';
import type { TcpPolicy } from '../../criu/tcp-policy.js';
import { describeTree } from '../../process/tree.js';
import { DEFAULT_RUNC_ROOT, runcState, type RuncState } from '../../runc/runc.js';
import type { MigrationOptions } from '../options.js';
import { RuncWorkload } from '../runc-workload.js';
import type { WorkloadAdapter, WorkloadFacts } from './adapter.js';
import { workloadLockPath } from '../../host-lock.js';

export interface RuncOptions {
  /** The container's ID in runc. */
  id: string;
  /** runc's state directory on both hosts (default /run/runc). */
  runcRoot?: string;
}

export class RuncAdapter implements WorkloadAdapter {
  readonly kind = 'runc';
  readonly tools = ['runc'];
  readonly keepSource = false;
  readonly name: string;
  private readonly root: string;
  private state?: RuncState;

  constructor(private readonly o: MigrationOptions & RuncOptions) {
    this.name = o.id;
    this.root = o.runcRoot ?? DEFAULT_RUNC_ROOT;
  }

  async inspect(): Promise<WorkloadFacts> {
    const { source, id } = this.o;
    const state = await runcState(source, this.root, id);
    if (!state) {
      throw new MigrateError('PREFLIGHT', `runc knows no container ${id} under ${this.root}`, {
        host: source.name, hint: `runc --root ${this.root} list shows the containers there; --runc-root names another state directory (Docker's containers: migrate CONTAINER)`,
      });
    }
    if (state.status !== 'running') {
      throw new MigrateError('PREFLIGHT', `runc container ${id} is ${state.status}, not running`, { host: source.name, hint: 'only a running container can be migrated' });
    }
    this.state = state;
    const { pids, rss } = await describeTree(source, state.pid);
    return { name: id, label: `runc container ${id}`, pids, rss, lockPath: workloadLockPath(`runc-${id}`), runPrefix: `runc-${id}` };
  }

  async checkTarget(): Promise<void> {
    const { target, id } = this.o;
    const state = this.state!;
    const [there, bundle] = await Promise.all([
      runcState(target, this.root, id),
      target.exec(['test', '-f', `${state.bundle}/config.json`], { allowFailure: true }),
    ]);
    if (there) {
      throw new MigrateError('PREFLIGHT', `the target already has a runc container ${id} (${there.status})`, {
        host: target.name, hint: `runc --root ${this.root} delete ${id} there if it is a leftover`,
      });
    }
    if (bundle.exitCode !== 0) {
      throw new MigrateError('PREFLIGHT', `the container's bundle ${state.bundle} (config.json and rootfs) is missing on the target`, {
        host: target.name, hint: 'runc restores from the same bundle path: put the bundle on shared storage or copy it there first',
      });
    }
  }

  async beforeMove(): Promise<void> {}

  workload(tcp: TcpPolicy): RuncWorkload {
    return new RuncWorkload(this.o.source, this.o.target, this.root, this.state!, tcp);
  }
}
