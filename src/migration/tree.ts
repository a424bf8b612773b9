/** Migrating a process tree: preflight, a lock on the PID, then the cold migration of a TreeWorkload. */
import type { Transport } from '../../transports/transport.js';
import { MigrateError, throwIfAborted } from '../errors.js';
import { ignoreEvents, type EventSink } from '../events.js';
import { lockHost } from '../host-lock.js';
import { defaultWorkRoot, migrateCold, type ColdOptions } from './cold.js';
import { checkpointBytes, requireCriu, requireRoom } from './preflight.js';
import { emptyReport, type MigrationReport, type PageTransport } from './report.js';
import { TreeWorkload, startTime } from './tree-workload.js';

export interface TreeMigrationOptions {
  pid: number;
  source: Transport;
  target: Transport;
  dryRun?: boolean;
  zstdLevel?: number;
  pages?: PageTransport;
  workRoot?: string;
  onEvent?: EventSink;
  signal?: AbortSignal;
  faults?: ColdOptions['faults'];
}

/** The tree under `pid` (itself included): PIDs, whether it is a PID namespace's init, and its resident bytes. */
export async function describeTree(t: Transport, pid: number): Promise<{ pids: number[]; nsInit: boolean; rss: number }> {
  const r = await t.exec(['sh', '-c',
    'walk() { echo "$1 $(awk \'/^VmRSS/ {print $2}\' /proc/$1/status)"; for c in $(cat /proc/$1/task/*/children 2>/dev/null); do walk $c; done; }; ' +
    'grep "^NSpid" /proc/$1/status; walk $1', 'tree', String(pid)]);
  const [nsLine, ...rows] = r.stdout.trim().split('\n');
  const nspid = (nsLine ?? '').split(/\s+/).slice(1);
  const pids = rows.map((l) => Number(l.split(' ')[0]));
  const rss = rows.reduce((s, l) => s + Number(l.split(' ')[1] || 0) * 1024, 0);
  return { pids, nsInit: nspid.length > 1 && nspid[nspid.length - 1] === '1', rss };
}

async function requireTree(source: Transport, target: Transport, pid: number): Promise<{ rss: number; start: string }> {
  const start = await startTime(source, pid);
  if (!start) throw new MigrateError('PREFLIGHT', `no process with PID ${pid}`, { host: source.name, hint: 'give the PID of the tree\'s root process' });
  const tree = await describeTree(source, pid);
  if (!tree.nsInit) {
    const taken = await target.exec(['sh', '-c', 'for p; do [ -d /proc/$p ] && echo $p; done; true', 'pids', ...tree.pids.map(String)]);
    if (taken.stdout.trim()) {
      throw new MigrateError('PREFLIGHT', `PIDs ${taken.stdout.trim().split('\n').join(', ')} of the tree are in use on the target`, {
        host: target.name,
        hint: 'CRIU restores a tree under its own PIDs: start the workload in its own PID namespace (unshare --pid --fork setsid CMD) so they are always free',
      });
    }
  }
  return { rss: tree.rss, start };
}

export async function migrateProcessTree(o: TreeMigrationOptions): Promise<MigrationReport> {
  const emit = o.onEvent ?? ignoreEvents;
  const { source, target } = o;
  const workRoot = o.workRoot ?? defaultWorkRoot();
  const started = Date.now();
  const report = emptyReport('process-tree', `pid ${o.pid}`, o.pages ?? 'page-server');

  emit({ kind: 'step', step: 'preflight', host: source.name });
  await requireCriu(source);
  const { rss, start } = await requireTree(source, target, o.pid);
  emit({ kind: 'step', step: 'preflight', host: target.name });
  await requireCriu(target);
  await requireRoom(target, workRoot, checkpointBytes(rss));
  const lock = await lockHost(source, `/run/lock/migrate-pid-${o.pid}.lock`, `process tree ${o.pid}`);
  try {
    report.phases_ms.preflight = Date.now() - started;
    if (o.dryRun) {
      report.outcome = 'dry-run';
      return report;
    }
    throwIfAborted(o.signal);
    return await migrateCold({
      source, target, report, workRoot, emit,
      workload: new TreeWorkload(source, target, o.pid, start),
      pages: report.pages, zstdLevel: o.zstdLevel, signal: o.signal, faults: o.faults,
    }, `pid-${o.pid}-${Date.now()}`);
  } finally {
    await lock.release();
  }
}
