/**
 * Stop-and-copy migration of a Docker container: preflight → create the twin on the target →
 * checkpoint (CRIU writes straight into migrate's directory) → stream + verify the images →
 * `docker start --checkpoint` on the target. Any failure after the freeze puts the workload
 * back on the source from the local checkpoint and removes the half-made target container.
 */
import { posix } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Transport } from '../../transports/transport.js';
import { writeFileVia } from '../../transports/files.js';
import { readDumpStats, readRestoreStats } from '../criu/run.js';
import { createArgs, inspectContainer, type ContainerInfo } from '../docker/container.js';
import { withRuncConf } from '../docker/runc-conf.js';
import { MigrateError, errorJson } from '../errors.js';
import { ignoreEvents, type EventSink } from '../events.js';
import { lockHost } from '../host-lock.js';
import { sendDirectory, type SendOptions } from '../transfer/send-dir.js';
import { requireCriu, requireMigratable, requireTargetReady, requireTools, residentBytes } from './preflight.js';
import type { MigrationReport } from './report.js';

export interface DockerMigrationOptions {
  container: string;
  source: Transport;
  target: Transport;
  /** Name on the target (default: the same name). */
  name?: string;
  keepSource?: boolean;
  dryRun?: boolean;
  zstdLevel?: number;
  /** Where image directories live on both hosts (default /var/lib/migrate). */
  workRoot?: string;
  onEvent?: EventSink;
  /** Aborts the migration (Ctrl-C): before the freeze nothing happens, after it a rollback. */
  signal?: AbortSignal;
  /** Test hooks for fault injection. */
  faults?: { tamper?: SendOptions['tamper']; beforeRestore?: () => Promise<void> };
}

const CHECKPOINT = 'migrate';

interface Dirs { root: string; images: string; link: string; work: string }

function dirsUnder(root: string): Dirs {
  return { root, images: `${root}/images`, link: `${root}/images.link`, work: `${root}/work` };
}

async function makeDirs(t: Transport, d: Dirs): Promise<void> {
  await t.exec(['sh', '-c', 'umask 077 && mkdir -p -m 0700 "$1" "$2" "$3" && ln -sfn "$2" "$4"', 'mkdirs', d.root, d.images, d.work, d.link]);
}

async function dockerRoot(t: Transport): Promise<string> {
  return (await t.exec(['docker', 'info', '--format', '{{.DockerRootDir}}'])).stdout.trim();
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new MigrateError('INTERRUPTED', 'migration interrupted', { hint: 'nothing is left half-done: the workload runs where the report says' });
}

export async function migrateDockerContainer(o: DockerMigrationOptions): Promise<MigrationReport> {
  const emit = o.onEvent ?? ignoreEvents;
  const { source, target } = o;
  const workRoot = o.workRoot ?? process.env.MIGRATE_WORK_DIR ?? '/var/lib/migrate';
  const phases = { preflight: 0, create: 0, checkpoint: 0, transfer: 0, restore: 0 };
  const report: MigrationReport = {
    outcome: 'failed', runs_on: 'source', strategy: 'cold', workload: { kind: 'docker', source: o.container },
    freeze_ms: null, phases_ms: phases, bytes: { raw: 0, wire: 0 }, criu: { dump: null, restore: null },
  };
  const step = (s: string, host?: Transport, detail?: string) => emit({ kind: 'step', step: s, host: host?.name, detail });
  let t = Date.now();
  const lap = () => { const now = Date.now(); const ms = now - t; t = now; return ms; };

  // ---- preflight: nothing is frozen or created until all of it passed
  if (!source.isLocal) {
    throw new MigrateError('PREFLIGHT', 'a remote source (--from) is not supported for containers yet', { host: source.name, hint: 'run migrate on the source host' });
  }
  step('preflight', source);
  const c = await inspectContainer(source, o.container);
  requireMigratable(c, source.name);
  const name = o.name ?? c.name;
  report.workload.source = c.name;
  await requireTools(source, ['docker', 'criu', 'flock']);
  await requireCriu(source);
  step('preflight', target);
  await requireCriu(target);
  const rss = await residentBytes(source, c.id);
  await requireTargetReady(target, c, name, workRoot, Math.ceil(rss * 1.1) + 64 * 2 ** 20);
  const lock = await lockHost(source, `/run/lock/migrate-container-${c.id.slice(0, 12)}.lock`, `container ${c.name}`);
  phases.preflight = lap();
  try {
    if (o.dryRun) {
      report.outcome = 'dry-run';
      return report;
    }
    checkAbort(o.signal);
    return await migrateLocked(o, c, name, workRoot, report, step, lap);
  } finally {
    await lock.release();
  }
}

async function migrateLocked(
  o: DockerMigrationOptions, c: ContainerInfo, name: string, workRoot: string, report: MigrationReport,
  step: (s: string, host?: Transport, detail?: string) => void, lap: () => number,
): Promise<MigrationReport> {
  const { source, target } = o;
  const phases = report.phases_ms;
  const stamp = `${c.id.slice(0, 12)}-${Date.now()}`;
  const src = dirsUnder(`${workRoot}/${stamp}`);
  const dst = dirsUnder(`${workRoot}/${stamp}`);

  // ---- the twin on the target, created before the freeze
  step('create', target, name);
  const targetId = (await target.exec(createArgs(c, name))).stdout.trim();
  report.workload.target = name;
  const cleanupTarget = async () => {
    await target.exec(['docker', 'rm', '-f', targetId], { allowFailure: true });
    await target.exec(['rm', '-rf', dst.root], { allowFailure: true });
  };
  try {
    await makeDirs(source, src);
    await makeDirs(target, dst);
    const [srcRoot, dstRoot] = await Promise.all([dockerRoot(source), dockerRoot(target)]);
    phases.create = lap();
    checkAbort(o.signal);

    // ---- freeze
    step('checkpoint', source);
    const frozenAt = Date.now();
    // A failed dump leaves the tree running (CRIU resumes it): the outer catch cleans up.
    await withRuncConf(source, { imagesLink: src.link, workDir: src.work }, () =>
      source.exec(['docker', 'checkpoint', 'create', c.id, CHECKPOINT]));
    phases.checkpoint = lap();
    report.criu.dump = await readDumpStats(source, src.work).catch(() => null);

    try {
      checkAbort(o.signal);
      step('transfer', target);
      const sent = await sendDirectory(src.images, target, dst.images, { level: o.zstdLevel, tamper: o.faults?.tamper, signal: o.signal });
      report.bytes = { raw: sent.rawBytes, wire: sent.wireBytes };
      const descriptors = await readFile(posix.join(srcRoot, 'containers', c.id, 'checkpoints', CHECKPOINT, 'descriptors.json'));
      await target.exec(['mkdir', '-p', '-m', '0700', posix.join(dstRoot, 'containers', targetId, 'checkpoints', CHECKPOINT)]);
      await writeFileVia(target, posix.join(dstRoot, 'containers', targetId, 'checkpoints', CHECKPOINT, 'descriptors.json'), descriptors);
      phases.transfer = lap();
      checkAbort(o.signal);

      step('restore', target);
      await o.faults?.beforeRestore?.();
      await withRuncConf(target, { imagesLink: dst.link, workDir: dst.work }, () =>
        target.exec(['docker', 'start', '--checkpoint', CHECKPOINT, targetId]));
      const running = (await target.exec(['docker', 'inspect', '--format', '{{.State.Running}}', targetId])).stdout.trim();
      if (running !== 'true') throw new MigrateError('RESTORE_FAILED', `container ${name} is not running after restore`, { host: target.name });
      report.freeze_ms = Date.now() - frozenAt;
      phases.restore = lap();
      report.criu.restore = await readRestoreStats(target, dst.work).catch(() => null);
    } catch (e) {
      report.error = errorJson(e);
      return await rollBack(o, c, src, report, cleanupTarget, frozenAt, step, e);
    }

    // ---- done: the workload runs on the target
    report.outcome = 'migrated';
    report.runs_on = 'target';
    step('finish', source, o.keepSource ? 'keeping the stopped source container' : 'removing the source container');
    if (!o.keepSource) await source.exec(['docker', 'rm', c.id], { allowFailure: true });
    else await source.exec(['docker', 'checkpoint', 'rm', c.id, CHECKPOINT], { allowFailure: true });
    await source.exec(['rm', '-rf', src.root], { allowFailure: true });
    await target.exec(['rm', '-rf', dst.root], { allowFailure: true });
    return report;
  } catch (e) {
    // Failed before or at the freeze (a rollback that failed keeps everything for recovery,
    // and a finished migration must not lose its target): undo what was prepared.
    if (report.outcome === 'failed' && !report.error) {
      await cleanupTarget();
      await source.exec(['rm', '-rf', src.root], { allowFailure: true });
    }
    throw e;
  }
}

async function rollBack(
  o: DockerMigrationOptions, c: ContainerInfo, src: Dirs, report: MigrationReport, cleanupTarget: () => Promise<void>,
  frozenAt: number, step: (s: string, host?: Transport, detail?: string) => void, cause: unknown,
): Promise<MigrationReport> {
  const { source } = o;
  step('rollback', source, `restoring ${c.name} from the local checkpoint`);
  await cleanupTarget();
  try {
    await withRuncConf(source, { imagesLink: src.link, workDir: src.work }, () =>
      source.exec(['docker', 'start', '--checkpoint', CHECKPOINT, c.id]));
    report.freeze_ms = Date.now() - frozenAt;
    report.outcome = 'rolled-back';
    report.runs_on = 'source';
    await source.exec(['docker', 'checkpoint', 'rm', c.id, CHECKPOINT], { allowFailure: true });
    await source.exec(['rm', '-rf', src.root], { allowFailure: true });
  } catch (e) {
    report.outcome = 'failed';
    report.runs_on = 'none';
    report.kept_images = `${src.images} on ${source.name}`;
    const first = cause instanceof Error ? cause.message : String(cause);
    throw new MigrateError('RESTORE_FAILED', `migration failed (${first.split('\n')[0]}) and so did the rollback on the source`, {
      host: source.name,
      hint: `the checkpoint is kept in ${src.images}; restore it by hand with runc.conf images-dir pointing at ${src.link} and docker start --checkpoint ${CHECKPOINT} ${c.name}`,
      cause: e,
    });
  }
  return report;
}

