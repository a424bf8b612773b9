/**
 * A plain process tree (`--pid`), for the front-end: the PID exists, and the tree can be restored
 * under its own PIDs on the target (its own PID namespace, or those PIDs free there).
 */
import { MigrateError } from '../../../transports/errors.js';
import { hostScript } from '../../host-scripts/index.js';
import type { TcpPolicy } from '../../criu/tcp-policy.js';
import { describeTree, procStat, type TreeInfo } from '../../process/tree.js';
import type { MigrationOptions } from '../options.js';
import { TreeWorkload } from '../tree-workload.js';
import type { WorkloadAdapter, WorkloadFacts } from './adapter.js';
import { workloadLockPath } from '../../host-lock.js';

/** A tree's lock on the source and the prefix of its runs' directories (and guard locks, restore records), by its root's PID and start time. */
export function treeKeys(pid: number, startTime: string): { lockPath: string; runPrefix: string } {
  return { lockPath: workloadLockPath(`pid-${pid}`), runPrefix: `pid-${pid}-${startTime}` };
}

export class TreeAdapter implements WorkloadAdapter {
  readonly kind = 'process-tree';
  readonly tools: string[] = [];
  readonly keepSource = false;
  readonly name: string;
  readonly recoverable: { pid: number };
  private tree?: TreeInfo;
  private start = '';

  constructor(private readonly o: MigrationOptions & { pid: number }) {
    this.name = `pid ${o.pid}`;
    this.recoverable = { pid: o.pid };
  }

  async inspect(): Promise<WorkloadFacts> {
    const { source, pid } = this.o;
    const stat = await procStat(source, pid);
    if (!stat) throw new MigrateError('PREFLIGHT', `no process with PID ${pid}`, { host: source.name, hint: 'give the PID of the tree\'s root process' });
    this.start = stat.startTime;
    const tree = (this.tree = await describeTree(source, pid));
    return { name: this.name, label: `process tree ${pid}`, pids: tree.pids, rss: tree.rss, ...treeKeys(pid, stat.startTime) };
  }

  /** CRIU restores a tree under its own PIDs. */
  async checkTarget(): Promise<void> {
    const { target } = this.o;
    const tree = this.tree!;
    if (tree.nsInit) return;
    const taken = await target.exec(hostScript('list-pids-in-use', ...tree.pids.map(String)));
    if (!taken.stdout.trim()) return;
    throw new MigrateError('PREFLIGHT', `PIDs ${taken.stdout.trim().split('\n').join(', ')} of the tree are in use on the target`, {
      host: target.name,
      hint: 'CRIU restores a tree under its own PIDs: start the workload in its own PID namespace (unshare --pid --fork setsid CMD) so they are always free',
    });
  }

  async beforeMove(): Promise<void> {}

  workload(tcp: TcpPolicy): TreeWorkload {
    return new TreeWorkload(this.o.source, this.o.target, this.tree!, this.start, tcp);
  }
}
