/** Migrating a process tree: preflight, a lock on the PID, then the cold migration of a TreeWorkload. */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../errors.js';
import { hostScript } from '../host-scripts/index.js';
import { ignoreEvents } from '../events.js';
import { defaultWorkRoot, type MigrationOptions } from './cold.js';
import { runStrategy, underLock } from './run-strategy.js';
import { checkpointBytes, chooseRestore, pickStrategy, requireCriu, requireRoom } from './preflight.js';
import { emptyReport, type MigrationReport } from './report.js';
import { requireDumpable } from './dumpable.js';
import { describeTree, procStat, type TreeInfo } from '../process/tree.js';
import { TreeWorkload } from './tree-workload.js';

export interface TreeMigrationOptions extends MigrationOptions {
  /** The root of the tree. */
  pid: number;
}

async function requireTree(source: Transport, target: Transport, pid: number): Promise<{ tree: TreeInfo; start: string }> {
  const stat = await procStat(source, pid);
  if (!stat) throw new MigrateError('PREFLIGHT', `no process with PID ${pid}`, { host: source.name, hint: 'give the PID of the tree\'s root process' });
  const tree = await describeTree(source, pid);
  if (!tree.nsInit) {
    const taken = await target.exec(hostScript('list-pids-in-use', ...tree.pids.map(String)));
    if (taken.stdout.trim()) {
      throw new MigrateError('PREFLIGHT', `PIDs ${taken.stdout.trim().split('\n').join(', ')} of the tree are in use on the target`, {
        host: target.name,
        hint: 'CRIU restores a tree under its own PIDs: start the workload in its own PID namespace (unshare --pid --fork setsid CMD) so they are always free',
      });
    }
  }
  return { tree, start: stat.startTime };
}

export async function migrateProcessTree(o: TreeMigrationOptions): Promise<MigrationReport> {
  const emit = o.onEvent ?? ignoreEvents;
  const { source, target } = o;
  const workRoot = o.workRoot ?? defaultWorkRoot();
  const started = Date.now();
  const report = emptyReport('process-tree', `pid ${o.pid}`, o.pages ?? 'page-server');

  emit({ kind: 'step', step: 'preflight', host: source.name });
  await requireCriu(source);
  const { tree, start } = await requireTree(source, target, o.pid);
  const tcp = o.tcp ?? 'refuse';
  const open = await requireDumpable(source, tree.pids, `process tree ${o.pid}`, tcp);
  report.tcp = { policy: tcp, established: open.length, closed: 0 };
  emit({ kind: 'step', step: 'preflight', host: target.name });
  await requireCriu(target);
  const { strategy, reason, lazyFinish } = await pickStrategy(source, target, o.strategy ?? 'auto', tree.rss, o.autoMemoryMin);
  report.strategy = strategy;
  report.strategy_reason = reason;
  // A pre-copy chain restores lazily too (verified in the soft-dirty guest: pages of the last dump fill in, the rest is read at restore).
  report.restore = await chooseRestore(target, { strategy, restore: o.restore });
  await requireRoom(target, workRoot, checkpointBytes(tree.rss));
  return underLock(source, `/run/lock/migrate-pid-${o.pid}.lock`, `process tree ${o.pid}`, o, report, started, () => runStrategy(strategy, {
    source, target, report, workRoot, emit,
    workload: new TreeWorkload(source, target, tree, start, tcp),
    pages: report.pages, restore: report.restore, zstdLevel: o.zstdLevel, signal: o.signal, faults: o.faults,
  }, o.precopy, `pid-${o.pid}-${start}`, lazyFinish));
}
