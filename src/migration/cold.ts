/**
 * Stop-and-copy (cold) migration, for any Workload:
 *   prepare the target → freeze + dump on the source → images to the target → restore there.
 *
 * Memory pages take one of two paths:
 * - `page-server` (default): CRIU's dump sends pages straight to a page server on the target,
 *   through the SSH tunnel, while it dumps: dump and transfer overlap, and the source writes no
 *   memory images at all.
 * - `stream`: CRIU writes all images on the source, then they are streamed (tar + zstd) and
 *   verified file by file on the target.
 * The remaining (non-memory) images always travel as a verified stream.
 *
 * Never lose the workload: the dump leaves the workload stopped on the source (workload.ts).
 * Any failure after the freeze removes what the target holds and resumes the source copy; only
 * a successful restore on the target ends it.
 */
import type { Transport } from '../../transports/transport.js';
import { readDumpStats, readLazyPagesStats, readRestoreStats, readRestoredTcp } from '../criu/run.js';
import type { TcpPolicy } from '../criu/tcp-policy.js';
import { startLazyPages, startPageServer, type CriuService, type PageServer } from '../criu/services.js';
import { MigrateError, errorJson, isMigrateError, throwIfAborted } from '../errors.js';
import type { EventSink } from '../events.js';
import { relayEndpointOn, startPageRelay, type Endpoint, type PageRelay } from '../transfer/page-relay.js';
import { isPageImage, sendImages, verifyPageImages, type SendOptions } from '../transfer/send-images.js';
import { noSpaceError } from '../transfer/disk-full.js';
import { recordFilesystem, recordTcp, type MigrationReport, type PageTransport, type RestoreMode } from './report.js';
import { SourceGuard } from './source-guard.js';
import type { StopPolicy } from './precopy-policy.js';
import { FreezeClock, dirsUnder, type Dirs, type Workload } from './workload.js';

export interface ColdOptions {
  source: Transport;
  target: Transport;
  workload: Workload;
  report: MigrationReport;
  /** Where checkpoint directories live on both hosts. */
  workRoot: string;
  pages: PageTransport;
  restore: RestoreMode;
  zstdLevel?: number;
  keepSource?: boolean;
  signal?: AbortSignal;
  emit: EventSink;
  /** Test hooks for fault injection. */
  /**
   * Pre-copy: runs before the freeze, once the target is prepared; returns the last pre-dump's
   * directory relative to the images directory (the same on both hosts), which the final dump
   * builds on.
   */
  preCopy?: (src: Dirs, dst: Dirs) => Promise<string | undefined>;
  /**
   * Asked once pre-copy's rounds are done: a report means the freeze went another way (post-copy's,
   * when auto's rounds did not converge: run-strategy.ts); undefined, the final dump follows.
   */
  finish?: (src: Dirs, dst: Dirs, parent: string) => Promise<MigrationReport> | undefined;
  faults?: {
    tamper?: SendOptions['tamper'];
    /** Runs right after the freeze started (before pages move). */
    afterFreeze?: () => Promise<void>;
    beforeRestore?: () => Promise<void>;
    /** Lazy restore: runs once the workload resumed on the target, while its memory fills in. */
    duringFill?: () => Promise<void>;
  };
}

/** What every migration takes, whatever it moves. */
export interface MigrationOptions {
  source: Transport;
  target: Transport;
  /**
   * auto (default): chosen from the hosts and the workload (strategy.ts); cold: stop and copy;
   * postcopy: memory follows after the restore; precopy (process trees, kernels with
   * soft-dirty): memory moves in rounds while it runs, the freeze carries the rest; hybrid:
   * pre-copy rounds, then a post-copy freeze without any memory.
   */
  strategy?: 'auto' | 'cold' | 'postcopy' | 'precopy' | 'hybrid';
  /** Pre-copy's stop policy (defaults: precopy-policy.ts DEFAULT_POLICY). */
  precopy?: Partial<StopPolicy>;
  /** auto: the resident size from which memory counts as big (default strategy.ts AUTO_MEMORY_MIN, 256 MiB). */
  autoMemoryMin?: number;
  /** Run every preflight check, freeze nothing. */
  dryRun?: boolean;
  zstdLevel?: number;
  /** How memory pages travel (default: straight to a page server on the target). */
  pages?: PageTransport;
  /** Default: lazy where the target has userfaultfd (the workload resumes before its memory is back in place). */
  restore?: RestoreMode;
  /** Where image directories live on both hosts (default /var/lib/migrate, or MIGRATE_WORK_DIR). */
  workRoot?: string;
  /** The workload's TCP connections: refused in preflight (default), dropped, or moved (criu/tcp-policy.ts). */
  tcp?: TcpPolicy;
  onEvent?: EventSink;
  /** Aborts the migration (Ctrl-C): before the freeze nothing happens, after it a rollback. */
  signal?: AbortSignal;
  faults?: ColdOptions['faults'];
}

/** Where checkpoint directories live on both hosts (0700, removed after each run). */
export const defaultWorkRoot = (): string => process.env.MIGRATE_WORK_DIR ?? '/var/lib/migrate';

export async function makeDirs(t: Transport, d: Dirs): Promise<void> {
  await t.exec(['sh', '-c', 'umask 077 && mkdir -p -m 0700 "$1" "$2" "$3" && ln -sfn "$2" "$4"', 'mkdirs', d.root, d.images, d.work, d.link]);
}

/** How long a failed dump's page server gets to exit on its own (and say why) before it is killed. */
const SETTLE_MS = 3000;

/** The page path of one dump: the target's page server, reached through a relay on the controller. */
class PagePath {
  private constructor(readonly endpoint: Endpoint, private readonly server: PageServer, private readonly relay: PageRelay,
    private readonly closers: Array<() => Promise<unknown>>) {}

  static async open(source: Transport, target: Transport, dst: Dirs): Promise<PagePath> {
    const server = await startPageServer(target, { imagesDir: dst.images, workDir: dst.work });
    const closers: Array<() => Promise<unknown>> = [];
    try {
      const relay = await startPageRelay(() => target.openStream(server.port));
      closers.push(relay.close);
      const reach = await relayEndpointOn(source, relay); // CRIU dumps on the source
      closers.push(reach.close);
      return new PagePath(reach.endpoint, server, relay, closers);
    } catch (e) {
      await Promise.allSettled(closers.map((c) => c()));
      server.kill();
      throw e;
    }
  }

  /** After a successful dump: waits until the page server has written everything. */
  async finish(): Promise<number> {
    try {
      const bytes = await this.relay.done;
      await this.server.done;
      return bytes;
    } finally {
      await this.close();
    }
  }

  /** After a failure: lets the page server settle (when `settle`), stops it, returns the errors seen. */
  async abort(settle: boolean): Promise<unknown[]> {
    const settled = Promise.allSettled([this.relay.done, this.server.done]);
    await Promise.race([settled, new Promise<void>((r) => setTimeout(r, settle ? SETTLE_MS : 0).unref())]);
    this.server.kill();
    await this.close();
    return (await settled).flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  }

  private async close(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((c) => c()));
  }
}

/**
 * Checkpoint directories `<workRoot>/<runPrefix>-*` on both hosts: left by an earlier run of the
 * same workload that died (they hold a memory image). Only called under the workload's lock.
 */
export async function removeStaleDirs(o: Pick<ColdOptions, 'source' | 'target' | 'workRoot'>, runPrefix: string): Promise<void> {
  await Promise.all([o.source, o.target].map((t) => t.exec(['sh', '-c', 'rm -rf -- "$1/$2"-*', 'stale', o.workRoot, runPrefix])));
}

/**
 * Runs one cold migration. `runPrefix` names this workload's checkpoint directories
 * (`<workRoot>/<runPrefix>-<time>`); the caller holds the workload's lock, so directories with
 * that prefix left by an earlier run that died (they hold a memory image) are removed first.
 */
export async function migrateCold(o: ColdOptions, runPrefix: string): Promise<MigrationReport> {
  await removeStaleDirs(o, runPrefix);
  const stamp = `${runPrefix}-${Date.now()}`;
  const guard = await SourceGuard.start(o.source);
  try {
    return await freezeAndMove(o, stamp, guard);
  } finally {
    await guard.release();
  }
}

async function freezeAndMove(o: ColdOptions, stamp: string, guard: SourceGuard): Promise<MigrationReport> {
  const { source, target, workload, report, emit } = o;
  const phases = report.phases_ms;
  const step = (s: string, host?: Transport, detail?: string) => emit({ kind: 'step', step: s, host: host?.name, detail });
  let t = Date.now();
  const lap = () => { const now = Date.now(); const ms = now - t; t = now; return ms; };
  const src = dirsUnder(`${o.workRoot}/${stamp}`);
  const dst = dirsUnder(`${o.workRoot}/${stamp}`);
  const cleanupTarget = async () => {
    await workload.removeFromTarget();
    await target.exec(['rm', '-rf', dst.root], { allowFailure: true });
  };
  const cleanupSource = () => source.exec(['rm', '-rf', src.root], { allowFailure: true });

  const clock = new FreezeClock();
  let parent: string | undefined;
  let pagePath: PagePath | undefined;
  let lazy: CriuService | undefined;
  try {
    parent = await prepareMove(o, src, dst);
  } catch (err) {
    // Nothing was frozen: undo what was prepared.
    await cleanupTarget();
    await cleanupSource();
    throw err;
  }
  const other = parent !== undefined ? o.finish?.(src, dst, parent) : undefined;
  if (other) return other;
  try {
    lap(); // timed inside
    if (o.pages === 'page-server') pagePath = await PagePath.open(source, target, dst);
    phases.create += lap();
    throwIfAborted(o.signal);

    step('checkpoint', source, o.pages === 'page-server' ? `pages go straight to ${target.name}` : undefined);
    clock.enter();
    await o.faults?.afterFreeze?.();
    await workload.checkpoint(src, { pageServer: pagePath?.endpoint, parent, stopping: clock.stopping });
  } catch (err) {
    // Nothing was frozen, or the dump failed and CRIU resumed the tree: undo what was prepared.
    // The page server's own failure (full disk, broken link) explains a failed dump best.
    const pageErrors = (await pagePath?.abort(clock.entered)) ?? [];
    const first = !clock.entered ? err : pageErrors.find((x) => isMigrateError(x, 'CRIU_FAILED')) ?? pageErrors[0] ?? err;
    const e = clock.entered ? await whenDiskFull(o, first) : first; // asked before the clean-up frees the space
    await cleanupTarget();
    await cleanupSource();
    if (!clock.entered) throw e;
    report.error = errorJson(e);
    // A dump that failed late may have left the processes stopped (leave-stopped): continue them.
    if (!(await workload.runsOnSource().catch(() => false))) await workload.resumeOnSource().catch(() => {});
    if (!(await workload.runsOnSource().catch(() => false))) {
      report.runs_on = 'none';
      throw new MigrateError('CRIU_FAILED', `the checkpoint of ${workload.label} failed and it does not run on the source`, {
        host: source.name, stderr: e instanceof Error ? e.message : String(e), hint: workload.resumeHint(), runsOn: 'none', cause: e,
      });
    }
    report.freeze_ms = clock.untilNowMs();
    report.outcome = 'rolled-back';
    report.runs_on = 'source';
    return report;
  }

  // The files that changed since the first copy travel while the images do.
  const files = copyFilesWhileFrozen(o);
  try {
    const [, dumpStats, pageBytes] = await Promise.all([
      workload.stoppedPids().then((pids) => guard.arm(pids)),
      readDumpStats(source, src.work).catch(() => null),
      pagePath?.finish() ?? 0,
    ]);
    report.criu.dump = dumpStats;
    if (pagePath) await verifyPageImages(target, dst.images, dumpStats?.pagesWritten);
    phases.checkpoint = lap();
    throwIfAborted(o.signal);

    step('transfer', target);
    const sent = await sendImages(source, src.images, target, dst.images, {
      level: o.zstdLevel, tamper: o.faults?.tamper, signal: o.signal, exclude: pagePath ? isPageImage : undefined,
    });
    report.bytes.raw += sent.rawBytes + pageBytes; // after pre-copy's rounds, if any
    report.bytes.wire += sent.wireBytes + pageBytes;
    await files;
    phases.transfer = lap();
    throwIfAborted(o.signal);

    step('restore', target, o.restore === 'lazy' ? 'memory fills in after it resumed' : undefined);
    await o.faults?.beforeRestore?.();
    if (o.restore === 'lazy') lazy = await startLazyPages(target, { imagesDir: dst.images, workDir: dst.work });
    await guard.disarm(); // from here on only the target may run it
    report.workload.target = await workload.restoreOnTarget(dst, lazy !== undefined, clock.resumed);
    report.freeze_ms = clock.frozenMs();
    phases.restore = lap();
    if (lazy) {
      // It runs; the source copy stays (stopped) until every page is in place on the target.
      // Should filling fail, the target copy cannot go on: it is removed and the source copy
      // resumes from the freeze (what the target did in this window is lost).
      await o.faults?.duringFill?.();
      await lazy.done;
      phases.fill = lap();
    }
    report.criu.restore = await readRestoreStats(target, dst.work).catch(() => null);
    recordTcp(report, await readRestoredTcp(target, dst.work));
    if (lazy) report.lazy_pages = await lazyPagesOf(target, dst.work);
  } catch (err) {
    lazy?.kill();
    await pagePath?.abort(false);
    await files.catch(() => {}); // let a copy in flight end before the target is cleared
    const e = await whenDiskFull(o, err);
    report.error = errorJson(e);
    return await rollBack(o, cleanupTarget, cleanupSource, clock, e);
  }

  report.outcome = 'migrated';
  report.runs_on = 'target';
  step('finish', source, o.keepSource ? `keeping the exited ${workload.label}` : `removing ${workload.label} from the source`);
  await workload.finishSource(o.keepSource ?? false);
  await cleanupSource();
  await target.exec(['rm', '-rf', dst.root], { allowFailure: true });
  return report;
}

/**
 * Everything before the freeze that cold and post-copy share: the target prepared, checkpoint
 * directories on both hosts, the workload's files copied, and pre-copy's rounds when there are
 * any (with the chain's `parent` link on the target). Fills phases create,
 * filesystem_before_freeze and precopy; returns the last round's directory.
 */
export async function prepareMove(o: ColdOptions, src: Dirs, dst: Dirs): Promise<string | undefined> {
  const { source, target, workload, report } = o;
  const started = Date.now();
  o.emit({ kind: 'step', step: 'create', host: target.name, detail: workload.label });
  // The link gets its one-time costs over with while the target is prepared (SshTransport.prime).
  await Promise.all([workload.prepareTarget(), target.prime()]);
  await Promise.all([makeDirs(source, src), makeDirs(target, dst)]);
  throwIfAborted(o.signal);
  await copyFilesBeforeFreeze(o); // timed on its own
  report.phases_ms.create = Date.now() - started - (report.phases_ms.filesystem_before_freeze ?? 0);
  if (!o.preCopy) return undefined;
  o.emit({ kind: 'step', step: 'precopy', host: source.name, detail: 'pre-dumping memory while it runs' });
  const rounds = Date.now();
  const parent = await o.preCopy(src, dst);
  report.phases_ms.precopy = Date.now() - rounds;
  // The chain, as CRIU makes it on the source; a page server asks for it before it takes pages.
  if (parent) await target.exec(['ln', '-sfn', parent, `${dst.images}/parent`]);
  return parent;
}

/** Before the freeze: the workload's files as they are now (whole). */
export async function copyFilesBeforeFreeze(o: Pick<ColdOptions, 'workload' | 'report' | 'emit' | 'target' | 'signal'>): Promise<void> {
  if (!o.workload.copyFilesBeforeFreeze) return;
  o.emit({ kind: 'step', step: 'files', host: o.target.name, detail: 'copying its files while it runs' });
  recordFilesystem(o.report, 'before_freeze', await o.workload.copyFilesBeforeFreeze());
  throwIfAborted(o.signal);
}

/** While frozen: what changed since. Settles (never rejects unobserved) even if nobody awaits it yet. */
export function copyFilesWhileFrozen(o: Pick<ColdOptions, 'workload' | 'report'>): Promise<void> {
  if (!o.workload.copyFilesWhileFrozen) return Promise.resolve();
  const p = o.workload.copyFilesWhileFrozen().then((pass) => recordFilesystem(o.report, 'frozen', pass));
  p.catch(() => {});
  return p;
}

/**
 * `e`, or NO_SPACE when a host's work directory filled up (target first: it receives the images;
 * the source writes them in stream mode). Asked before anything is cleaned up.
 */
export async function whenDiskFull(o: Pick<ColdOptions, 'source' | 'target' | 'workRoot'>, e: unknown): Promise<unknown> {
  if (isMigrateError(e, 'NO_SPACE')) return e;
  return (await noSpaceError(o.target, o.workRoot, e)) ?? (await noSpaceError(o.source, o.workRoot, e)) ?? e;
}

/** The report's lazy_pages: how a lazy-pages daemon filled the memory (undefined if its log is unreadable). */
export async function lazyPagesOf(target: Transport, workDir: string): Promise<MigrationReport['lazy_pages']> {
  const l = await readLazyPagesStats(target, workDir).catch(() => undefined);
  return l && { on_demand: l.onDemand, background: l.background, total: l.total };
}

async function rollBack(o: ColdOptions, cleanupTarget: () => Promise<void>, cleanupSource: () => Promise<unknown>,
  clock: FreezeClock, cause: unknown): Promise<MigrationReport> {
  const { source, workload, report } = o;
  o.emit({ kind: 'step', step: 'rollback', host: source.name, detail: `resuming the stopped ${workload.label}` });
  await cleanupTarget().catch(() => {}); // the target may be the thing that broke
  try {
    await workload.resumeOnSource();
  } catch (e) {
    report.outcome = 'failed';
    report.runs_on = 'none';
    const first = cause instanceof Error ? cause.message : String(cause);
    throw new MigrateError('RESTORE_FAILED', `migration failed (${first.split('\n')[0]}) and so did resuming it on the source`, {
      host: source.name, hint: workload.resumeHint(), runsOn: 'none', cause: e,
    });
  }
  report.freeze_ms = clock.untilNowMs();
  report.outcome = 'rolled-back';
  report.runs_on = 'source';
  await cleanupSource();
  return report;
}
