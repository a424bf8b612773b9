/**
 * Post-copy migration (`--strategy postcopy`): the freeze carries no memory at all.
 *   freeze + dump everything but memory on the source (CRIU then serves the memory from a page
 *   server there) → those images (~100 KiB) to the target → restore there with lazy pages: a
 *   lazy-pages daemon on the target pulls the memory from the source's page server, on demand
 *   and in the background, through a relay on the controller and the SSH connections (the page
 *   server listens on the source's loopback only).
 *
 * The post-copy window — from the restore until the last page arrived — is reported as
 * `postcopy_ms`. Inside it the workload's memory lives on two hosts. The source's tree stays
 * there, stopped (services.ts, startLazyDump), until the target's lazy-pages daemon confirms
 * every page arrived; then it is ended. If the link, the source or the daemon fails, the target
 * copy cannot go on: it is removed, the source copy resumes from the freeze, and the report says
 * `runs_on: "source"`. What the workload did on the target in the window is lost.
 *
 * For workloads that implement Workload.checkpointLazy: process trees and Docker containers.
 */
import type { Duplex } from 'node:stream';
import type { PageServer } from '../criu/services.js';
import { startRemoteLazyPages, type CriuService } from '../criu/services.js';
import { readRestoreStats, readRestoredTcp } from '../criu/run.js';
import { MigrateError, errorJson, throwIfAborted } from '../errors.js';
import { relayEndpointOn, startPageRelay, type PageRelay } from '../transfer/page-relay.js';
import { sendImages } from '../transfer/send-images.js';
import { copyFilesWhileFrozen, lazyPagesOf, prepareMove, removeStaleDirs, whenDiskFull, type ColdOptions } from './cold.js';
import { recordTcp, type MigrationReport } from './report.js';
import { FreezeClock, dirsUnder, type Dirs, type Workload } from './workload.js';

function requireLazy(w: Workload): NonNullable<Workload['checkpointLazy']> {
  if (!w.checkpointLazy) throw new MigrateError('BAD_INPUT', `post-copy is not implemented for ${w.kind} workloads yet`, { hint: 'use --strategy cold' });
  return w.checkpointLazy.bind(w);
}

/** How long the source's CRIU gets to finish after its page stream was dropped. */
const END_WAIT_MS = 10_000;

export async function migratePostcopy(o: ColdOptions, runPrefix: string): Promise<MigrationReport> {
  const { source, target, workload, report } = o;
  requireLazy(workload);
  report.strategy = o.preCopy ? 'hybrid' : 'postcopy';
  await removeStaleDirs(o, runPrefix);
  const src = dirsUnder(`${o.workRoot}/${runPrefix}-${Date.now()}`);
  const dst = src;
  const cleanup = () => Promise.all([source, target].map((h) => h.exec(['rm', '-rf', src.root], { allowFailure: true })));

  let parent: string | undefined;
  try {
    // Hybrid: pre-copy rounds come first; the lazy dump then leaves only what they did not carry.
    parent = await prepareMove(o, src, dst);
    throwIfAborted(o.signal);
  } catch (e) {
    // Nothing is frozen yet: undo what was prepared.
    await workload.removeFromTarget();
    await cleanup();
    throw e;
  }
  return freezeLazily(o, src, dst, parent);
}

/**
 * Post-copy's freeze and window, once the target is prepared in `dst` (and pre-copy's rounds,
 * if any, are there: `parent`): the lazy dump, its non-memory images to the target, the restore
 * there, the memory pulled after it. Also the finish of auto's pre-copy when its rounds did not
 * converge (run-strategy.ts).
 */
export async function freezeLazily(o: ColdOptions, src: Dirs, dst: Dirs, parent: string | undefined): Promise<MigrationReport> {
  const { source, target, workload, report, emit } = o;
  const checkpointLazy = requireLazy(workload);
  const phases = report.phases_ms;
  const step = (s: string, host = source, detail?: string) => emit({ kind: 'step', step: s, host: host.name, detail });
  let t = Date.now();
  const lap = () => { const now = Date.now(); const ms = now - t; t = now; return ms; };
  const cleanup = () => Promise.all([source.exec(['rm', '-rf', src.root], { allowFailure: true }), target.exec(['rm', '-rf', dst.root], { allowFailure: true })]);

  step('checkpoint', source, 'everything but memory; memory stays on the source and is served from there');
  const clock = new FreezeClock();
  clock.enter();
  let dump: PageServer;
  try {
    dump = await checkpointLazy(src, { parent, stopping: clock.stopping });
  } catch (err) {
    const e = await whenDiskFull(o, err);
    await workload.removeFromTarget();
    await cleanup();
    report.error = errorJson(e);
    // A dump that failed late may have left the processes stopped (leave-stopped): continue them.
    if (!(await workload.runsOnSource().catch(() => false))) await workload.resumeOnSource().catch(() => {});
    if (!(await workload.runsOnSource().catch(() => false))) {
      report.runs_on = 'none';
      throw new MigrateError('CRIU_FAILED', `the lazy checkpoint of ${workload.label} failed and it does not run on the source`, {
        host: source.name, stderr: e instanceof Error ? e.message : String(e), hint: workload.resumeHint(), runsOn: 'none', cause: e,
      });
    }
    report.outcome = 'rolled-back';
    report.freeze_ms = clock.untilNowMs();
    return report;
  }
  phases.checkpoint = lap();

  let relay: PageRelay | undefined;
  let lazy: CriuService | undefined;
  const closers: Array<() => Promise<unknown>> = [];
  const files = copyFilesWhileFrozen(o); // what changed since the first copy, while the images travel
  try {
    throwIfAborted(o.signal);
    step('transfer', target);
    const sent = await sendImages(source, src.images, target, dst.images, { level: o.zstdLevel, tamper: o.faults?.tamper, signal: o.signal });
    report.bytes.raw += sent.rawBytes; // after pre-copy's rounds, if any
    report.bytes.wire += sent.wireBytes;
    await files;
    phases.transfer = lap();
    throwIfAborted(o.signal);

    step('restore', target, 'memory follows from the source after it resumed');
    await o.faults?.beforeRestore?.();
    relay = await startPageRelay(() => source.openStream(dump.port));
    closers.push(relay.close);
    const reach = await relayEndpointOn(target, relay); // the target's daemon fetches the pages
    closers.push(reach.close);
    lazy = await startRemoteLazyPages(target, { imagesDir: dst.images, workDir: dst.work }, reach.endpoint);
    report.workload.target = await workload.restoreOnTarget(dst, true, clock.resumed);
    report.freeze_ms = clock.frozenMs();
    phases.restore = lap();

    step('postcopy', target, 'pulling the memory from the source');
    await o.faults?.duringFill?.();
    const [pageBytes] = await Promise.all([relay.done, lazy.done, dump.done]);
    report.postcopy_ms = lap();
    report.bytes.raw += pageBytes;
    report.bytes.wire += pageBytes;
    report.criu.restore = await readRestoreStats(target, dst.work).catch(() => null);
    recordTcp(report, await readRestoredTcp(target, dst.work));
    report.lazy_pages = await lazyPagesOf(target, dst.work);
  } catch (err) {
    lazy?.kill();
    const e = await whenDiskFull(o, err);
    report.error = errorJson(e);
    step('rollback', source, `${workload.label} cannot go on on the target; resuming it on the source`);
    await files.catch(() => {});
    await workload.removeFromTarget().catch(() => {});
    await Promise.allSettled(closers.map((c) => c()));
    await endDump(o, dump, relay === undefined);
    await workload.resumeOnSource().catch(() => {});
    await cleanup();
    if (!(await workload.runsOnSource().catch(() => false))) {
      report.runs_on = 'none';
      throw new MigrateError('RESTORE_FAILED', `post-copy of ${workload.label} failed and it runs nowhere`, {
        host: source.name, stderr: e instanceof Error ? e.message : String(e), hint: workload.resumeHint(), runsOn: 'none', cause: e,
      });
    }
    report.outcome = 'rolled-back';
    report.runs_on = 'source';
    report.freeze_ms = clock.untilNowMs();
    return report;
  } finally {
    await Promise.allSettled(closers.map((c) => c()));
  }

  await workload.finishSource(o.keepSource ?? false); // every page is on the target: end the stopped source copy
  report.outcome = 'migrated';
  report.runs_on = 'target';
  await cleanup();
  return report;
}

/**
 * Ends the source's CRIU after a failure, leaving the tree stopped there. If the target never
 * connected, connect and hang up (it would wait forever otherwise); a CRIU that still does not
 * finish is killed (its tracees are detached and run on).
 */
async function endDump(o: ColdOptions, dump: PageServer, neverConnected: boolean): Promise<void> {
  if (neverConnected) {
    const s: Duplex | undefined = await o.source.openStream(dump.port).catch(() => undefined);
    s?.destroy();
  }
  const settled = dump.done.then(() => true, () => true);
  const timer = new Promise<boolean>((r) => setTimeout(() => r(false), END_WAIT_MS).unref());
  if (!(await Promise.race([settled, timer]))) dump.kill();
}
