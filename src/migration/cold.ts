/**
 * Stop-and-copy (cold) migration, for any Workload:
 *   prepare the target → freeze + dump on the source → images to the target → restore there.
 *
 * Memory pages take one of two paths:
 * - `page-server` (default): CRIU's dump sends pages straight to a page server on the target,
 *   through the SSH tunnel, while it dumps; a tee on the controller also feeds a page server on
 *   the source, so a complete local checkpoint exists for a rollback. Dump and transfer overlap.
 * - `stream`: CRIU writes all images on the source, then they are streamed (tar + zstd) and
 *   verified file by file on the target.
 * The remaining (non-memory) images always travel as a verified stream.
 *
 * Never lose the workload: any failure after the freeze removes what the target holds and
 * restores the workload on the source from the local checkpoint; if even that fails, the images
 * are kept and the error says how to restore by hand.
 */
import type { Transport } from '../../transports/transport.js';
import { readDumpStats, readRestoreStats } from '../criu/run.js';
import { startPageServer, type PageServer } from '../criu/page-server.js';
import { MigrateError, errorJson, isMigrateError, throwIfAborted } from '../errors.js';
import type { EventSink } from '../events.js';
import { startPageTee, type Endpoint, type PageTee } from '../transfer/page-tee.js';
import { isPageImage, sendImages, verifyPageImages, type SendOptions } from '../transfer/send-images.js';
import type { MigrationReport, PageTransport } from './report.js';
import { dirsUnder, type Dirs, type Workload } from './workload.js';

export interface ColdOptions {
  source: Transport;
  target: Transport;
  workload: Workload;
  report: MigrationReport;
  /** Where checkpoint directories live on both hosts. */
  workRoot: string;
  pages: PageTransport;
  zstdLevel?: number;
  keepSource?: boolean;
  signal?: AbortSignal;
  emit: EventSink;
  /** Test hooks for fault injection. */
  faults?: {
    tamper?: SendOptions['tamper'];
    /** Runs right after the freeze started (before pages move). */
    afterFreeze?: () => Promise<void>;
    beforeRestore?: () => Promise<void>;
  };
}

/** Where checkpoint directories live on both hosts (0700, removed after each run). */
export const defaultWorkRoot = (): string => process.env.MIGRATE_WORK_DIR ?? '/var/lib/migrate';

async function makeDirs(t: Transport, d: Dirs): Promise<void> {
  await t.exec(['sh', '-c', 'umask 077 && mkdir -p -m 0700 "$1" "$2" "$3" && ln -sfn "$2" "$4"', 'mkdirs', d.root, d.images, d.work, d.link]);
}

/** The page path set up for one dump: two page servers joined by a tee on the controller. */
interface PagePath {
  endpoint: Endpoint;
  /** After a successful dump: waits until both servers have written everything. */
  finish(): Promise<number>;
  /** After a failure: lets the servers settle (briefly), stops them, and returns their errors. */
  abort(settle: boolean): Promise<unknown[]>;
}

/** How long a failed dump's page servers get to exit on their own (and report why) before they are killed. */
const SETTLE_MS = 3000;

async function openPagePath(source: Transport, target: Transport, src: Dirs, dst: Dirs): Promise<PagePath> {
  const servers: PageServer[] = [];
  const closers: Array<() => Promise<void>> = [];
  let tee: PageTee | undefined;
  const abort = async (settle: boolean): Promise<unknown[]> => {
    const settled = Promise.allSettled([...(tee ? [tee.done] : []), ...servers.map((s) => s.done)]);
    const timer = new Promise<void>((r) => setTimeout(r, settle ? SETTLE_MS : 0).unref());
    await Promise.race([settled, timer]);
    for (const s of servers) s.kill();
    await Promise.allSettled(closers.map((c) => c()));
    return (await settled).flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  };
  try {
    const [remote, local] = await Promise.all([
      startPageServer(target, { imagesDir: dst.images, workDir: dst.work }),
      startPageServer(source, { imagesDir: src.images, workDir: src.work }),
    ]);
    servers.push(remote, local);
    tee = await startPageTee(() => target.openStream(remote.port), () => source.openStream(local.port));
    closers.push(tee.close);
    // CRIU dumps on the source: a remote source reaches the tee through a reverse forward.
    let endpoint: Endpoint = { host: tee.host, port: tee.port };
    if (!source.isLocal) {
      const back = await source.reverseForward(0, tee.port);
      closers.push(() => back.close());
      endpoint = { host: back.remoteHost, port: back.remotePort };
    }
    const t = tee;
    return {
      endpoint,
      abort,
      finish: async () => {
        try {
          const bytes = await t.done;
          await Promise.all(servers.map((s) => s.done));
          return bytes;
        } finally {
          await Promise.allSettled(closers.map((c) => c()));
        }
      },
    };
  } catch (e) {
    await abort(false);
    throw e;
  }
}

export async function migrateCold(o: ColdOptions, stamp: string): Promise<MigrationReport> {
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

  let frozenAt = 0;
  let pagePath: PagePath | undefined;
  try {
    step('create', target, workload.label);
    await workload.prepareTarget();
    await Promise.all([makeDirs(source, src), makeDirs(target, dst)]);
    if (o.pages === 'page-server') pagePath = await openPagePath(source, target, src, dst);
    phases.create = lap();
    throwIfAborted(o.signal);

    step('checkpoint', source, o.pages === 'page-server' ? `pages go straight to ${target.name}` : undefined);
    frozenAt = Date.now();
    await o.faults?.afterFreeze?.();
    await workload.checkpoint(src, pagePath?.endpoint);
  } catch (err) {
    // Nothing was frozen, or the dump failed and CRIU resumed the tree: undo what was prepared.
    // A page server's own failure (full disk, broken link) explains a failed dump best.
    const pageErrors = (await pagePath?.abort(frozenAt !== 0)) ?? [];
    const e = frozenAt === 0 ? err : pageErrors.find((x) => isMigrateError(x, 'CRIU_FAILED')) ?? pageErrors[0] ?? err;
    await cleanupTarget();
    await cleanupSource();
    if (frozenAt === 0) throw e;
    report.error = errorJson(e);
    if (!(await workload.runsOnSource().catch(() => false))) {
      report.runs_on = 'none';
      throw new MigrateError('CRIU_FAILED', `the checkpoint of ${workload.label} failed and it no longer runs on the source`, {
        host: source.name, stderr: e instanceof Error ? e.message : String(e), hint: 'restart the workload there', runsOn: 'none', cause: e,
      });
    }
    report.freeze_ms = Date.now() - frozenAt;
    report.outcome = 'rolled-back';
    report.runs_on = 'source';
    return report;
  }

  try {
    report.criu.dump = await readDumpStats(source, src.work).catch(() => null);
    let pageBytes = 0;
    if (pagePath) {
      pageBytes = await pagePath.finish();
      await verifyPageImages(source, src.images, target, dst.images);
    }
    phases.checkpoint = lap();
    throwIfAborted(o.signal);

    step('transfer', target);
    const sent = await sendImages(source, src.images, target, dst.images, {
      level: o.zstdLevel, tamper: o.faults?.tamper, signal: o.signal, exclude: pagePath ? isPageImage : undefined,
    });
    report.bytes.raw = sent.rawBytes + pageBytes;
    report.bytes.wire = sent.wireBytes + pageBytes;
    phases.transfer = lap();
    throwIfAborted(o.signal);

    step('restore', target);
    await o.faults?.beforeRestore?.();
    report.workload.target = await workload.restoreOnTarget(dst);
    report.freeze_ms = Date.now() - frozenAt;
    phases.restore = lap();
    report.criu.restore = await readRestoreStats(target, dst.work).catch(() => null);
  } catch (e) {
    report.error = errorJson(e);
    await pagePath?.abort(false);
    return await rollBack(o, src, cleanupTarget, cleanupSource, frozenAt, e);
  }

  report.outcome = 'migrated';
  report.runs_on = 'target';
  step('finish', source, o.keepSource ? `keeping the stopped ${workload.label}` : `removing ${workload.label} from the source`);
  await workload.finishSource(o.keepSource ?? false);
  await cleanupSource();
  await target.exec(['rm', '-rf', dst.root], { allowFailure: true });
  return report;
}

async function rollBack(o: ColdOptions, src: Dirs, cleanupTarget: () => Promise<void>, cleanupSource: () => Promise<unknown>,
  frozenAt: number, cause: unknown): Promise<MigrationReport> {
  const { source, workload, report } = o;
  o.emit({ kind: 'step', step: 'rollback', host: source.name, detail: `restoring ${workload.label} from the local checkpoint` });
  await cleanupTarget().catch(() => {}); // the target may be the thing that broke
  try {
    await workload.restoreOnSource(src);
  } catch (e) {
    report.outcome = 'failed';
    report.runs_on = 'none';
    report.kept_images = `${src.images} on ${source.name}`;
    const first = cause instanceof Error ? cause.message : String(cause);
    throw new MigrateError('RESTORE_FAILED', `migration failed (${first.split('\n')[0]}) and so did the rollback on the source`, {
      host: source.name,
      hint: `the checkpoint is kept in ${src.images}; ${workload.manualRestoreHint(src)}`,
      runsOn: 'none',
      cause: e,
    });
  }
  report.freeze_ms = Date.now() - frozenAt;
  report.outcome = 'rolled-back';
  report.runs_on = 'source';
  await cleanupSource();
  return report;
}
