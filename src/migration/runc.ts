/**
 * Migrating a container runc runs by itself: preflight (nothing is frozen until all of it
 * passed), a lock on the container, then the strategy's run of a RuncWorkload.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../errors.js';
import { ignoreEvents } from '../events.js';
import { describeTree } from '../process/tree.js';
import { DEFAULT_RUNC_ROOT, runcState, type RuncState } from '../runc/runc.js';
import { defaultWorkRoot, type MigrationOptions } from './cold.js';
import { runStrategy, underLock } from './run-strategy.js';
import { checkpointBytes, chooseRestore, pickStrategy, requireCriu, requireRoom, requireTools } from './preflight.js';
import { emptyReport, type MigrationReport } from './report.js';
import { requireDumpable } from './dumpable.js';
import { RuncWorkload } from './runc-workload.js';

export interface RuncMigrationOptions extends MigrationOptions {
  /** The container's ID in runc. */
  id: string;
  /** runc's state directory on both hosts (default /run/runc). */
  runcRoot?: string;
}

async function requireContainer(source: Transport, target: Transport, root: string, id: string): Promise<RuncState> {
  const state = await runcState(source, root, id);
  if (!state) {
    throw new MigrateError('PREFLIGHT', `runc knows no container ${id} under ${root}`, {
      host: source.name, hint: `runc --root ${root} list shows the containers there; --runc-root names another state directory (Docker's containers: migrate CONTAINER)`,
    });
  }
  if (state.status !== 'running') {
    throw new MigrateError('PREFLIGHT', `runc container ${id} is ${state.status}, not running`, { host: source.name, hint: 'only a running container can be migrated' });
  }
  const [there, bundle] = await Promise.all([
    runcState(target, root, id),
    target.exec(['test', '-f', `${state.bundle}/config.json`], { allowFailure: true }),
  ]);
  if (there) {
    throw new MigrateError('PREFLIGHT', `the target already has a runc container ${id} (${there.status})`, {
      host: target.name, hint: `runc --root ${root} delete ${id} there if it is a leftover`,
    });
  }
  if (bundle.exitCode !== 0) {
    throw new MigrateError('PREFLIGHT', `the container's bundle ${state.bundle} (config.json and rootfs) is missing on the target`, {
      host: target.name, hint: 'runc restores from the same bundle path: put the bundle on shared storage or copy it there first',
    });
  }
  return state;
}

export async function migrateRuncContainer(o: RuncMigrationOptions): Promise<MigrationReport> {
  const emit = o.onEvent ?? ignoreEvents;
  const { source, target } = o;
  const root = o.runcRoot ?? DEFAULT_RUNC_ROOT;
  const workRoot = o.workRoot ?? defaultWorkRoot();
  const started = Date.now();
  const report = emptyReport('runc', o.id, o.pages ?? 'page-server');

  emit({ kind: 'step', step: 'preflight', host: source.name });
  await requireTools(source, ['runc', 'criu', 'flock']);
  await requireCriu(source);
  emit({ kind: 'step', step: 'preflight', host: target.name });
  await requireCriu(target);
  const state = await requireContainer(source, target, root, o.id);
  const { rss, pids } = await describeTree(source, state.pid);
  const tcp = o.tcp ?? 'refuse';
  const open = await requireDumpable(source, pids, `runc container ${o.id}`, tcp);
  report.tcp = { policy: tcp, established: open.length, closed: 0 };
  const { strategy, reason, lazyFinish } = await pickStrategy(source, target, o.strategy ?? 'auto', rss, o.autoMemoryMin);
  report.strategy = strategy;
  report.strategy_reason = reason;
  report.restore = await chooseRestore(target, { strategy, restore: o.restore });
  await requireRoom(target, workRoot, checkpointBytes(rss), ['runc']);
  return underLock(source, `/run/lock/migrate-runc-${o.id}.lock`, `runc container ${o.id}`, o, report, started, () => runStrategy(strategy, {
    source, target, report, workRoot, emit,
    workload: new RuncWorkload(source, target, root, state, tcp),
    pages: report.pages, restore: report.restore, zstdLevel: o.zstdLevel, signal: o.signal, faults: o.faults,
  }, o.precopy, `runc-${o.id}`, lazyFinish));
}
