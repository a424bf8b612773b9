/**
 * The one front-end every kind of workload goes through: preflight (nothing is frozen or created
 * until all of it passed), the strategy, a lock on the workload, then the pipeline. What differs
 * between a Docker container, a runc container and a process tree is its adapter (kinds/).
 */
import { throwIfAborted } from '../../transports/errors.js';
import { ignoreEvents } from '../events.js';
import { requireDumpable } from './dumpable.js';
import type { WorkloadAdapter } from './kinds/adapter.js';
import { defaultWorkRoot, type MigrationOptions } from './options.js';
import { move } from './pipeline/start.js';
import { IMAGE_TOOLS, checkpointBytes, chooseRestore, pickStrategy, requireCriu, requireRoom, requireTools, requireWorkRoot } from './preflight.js';
import { emptyReport, type MigrationReport } from './report.js';
import { recover } from './recover.js';
import { underLock } from './under-lock.js';

/** An earlier run that died had restored it on the target already: recover ended the stopped source copy. */
function alreadyThere(report: MigrationReport, started: number): MigrationReport {
  report.outcome = 'migrated';
  report.runs_on = 'target';
  report.freeze_ms = null;
  report.strategy_reason = 'an earlier run that died had already restored it on the target; this run only put back what it left';
  report.phases_ms.preflight = Date.now() - started;
  return report;
}

export async function migrateWorkload(adapter: WorkloadAdapter, o: MigrationOptions): Promise<MigrationReport> {
  const emit = o.onEvent ?? ignoreEvents;
  const { source, target } = o;
  const workRoot = o.workRoot ?? defaultWorkRoot();
  const started = Date.now();
  const report = emptyReport(adapter.kind, adapter.name, o.pages ?? 'page-server');

  emit({ kind: 'step', step: 'preflight', host: source.name });
  if (adapter.recoverable && !o.dryRun) {
    const left = await recover({ source, target, workload: adapter.recoverable, workRoot, onEvent: emit });
    if (left.actions.length > 0) report.recovered = left.actions;
    if (left.runs_on === 'target') return alreadyThere(report, started);
  }
  const facts = await adapter.inspect();
  report.workload.source = facts.name;
  // --tcp keep: a rollback takes the connections out of TCP repair mode again (unlock-network.sh: python3).
  await requireTools(source, [...IMAGE_TOOLS, ...adapter.tools, ...(o.tcp === 'keep' ? ['python3'] : [])]);
  await requireWorkRoot(source, workRoot);
  await requireCriu(source);
  emit({ kind: 'step', step: 'preflight', host: target.name });
  await requireCriu(target);
  const tcp = o.tcp ?? 'refuse';
  const open = await requireDumpable(source, facts.pids, facts.label, tcp);
  report.tcp = { policy: tcp, established: open.length, closed: 0 };
  const choice = await pickStrategy(source, target, o.strategy ?? 'auto', facts.rss, o.autoMemoryMin);
  report.strategy = choice.strategy;
  report.strategy_reason = choice.reason;
  report.restore = await chooseRestore(target, { strategy: choice.strategy, restore: o.restore });
  await requireRoom(target, workRoot, checkpointBytes(facts.rss), adapter.tools);
  await adapter.checkTarget(choice.strategy);

  return underLock(source, facts.lockPath, facts.label, o, report, started, async () => {
    await adapter.beforeMove(report);
    throwIfAborted(o.signal);
    return move(choice, {
      source, target, report, workRoot, emit, runPrefix: facts.runPrefix, residentBytes: facts.rss, workload: adapter.workload(tcp),
      pages: report.pages, pageChannel: o.pageChannel ?? 'ssh', prefetch: o.prefetch ?? 'off', pageForwarder: o.pageForwarder ?? 'auto', restore: report.restore, zstdLevel: o.zstdLevel, ...(o.freezeTimeoutMs ? { freezeTimeoutMs: o.freezeTimeoutMs } : {}), keepSource: adapter.keepSource, signal: o.signal, faults: o.faults,
    }, o.precopy);
  });
}
