/**
 * Migrating a Docker container: preflight (nothing is frozen or created until all of it
 * passed), a lock on the container, then the cold migration (cold.ts) of a DockerWorkload.
 */
import { inspectContainer } from '../docker/container.js';
import { planFilesystem, type FilesystemOptions } from '../docker/container-fs.js';
import { sendImage } from '../docker/image-transfer.js';
import { throwIfAborted } from '../errors.js';
import { ignoreEvents } from '../events.js';
import { defaultWorkRoot, type MigrationOptions } from './cold.js';
import { runStrategy, underLock } from './run-strategy.js';
import { DockerWorkload } from './docker-workload.js';
import { dockerRuncRoot } from '../docker/runc-root.js';
import { IMAGE_TOOLS, checkpointBytes, chooseRestore, containerProcesses, hasImage, pickStrategy, requireCriu, requireDockerTarget, requireMigratable, requireRoom, requireTools, residentBytes } from './preflight.js';
import { emptyReport, type MigrationReport } from './report.js';
import { requireDumpable, requireOneTree } from './dumpable.js';
import { describeTree } from '../process/tree.js';

export interface DockerMigrationOptions extends MigrationOptions, Pick<FilesystemOptions, 'volumeMap' | 'force' | 'copyBindMounts'> {
  container: string;
  /** Name on the target (default: the same name). */
  name?: string;
  /** Keep the source container (exited) after a successful migration. */
  keepSource?: boolean;
  /** Send the image to the target when it lacks it (docker save | docker load). */
  transferImage?: boolean;
}

export async function migrateDockerContainer(o: DockerMigrationOptions): Promise<MigrationReport> {
  const emit = o.onEvent ?? ignoreEvents;
  const { source, target } = o;
  const workRoot = o.workRoot ?? defaultWorkRoot();
  const started = Date.now();
  const report = emptyReport('docker', o.container, o.pages ?? 'page-server');

  emit({ kind: 'step', step: 'preflight', host: source.name });
  const c = await inspectContainer(source, o.container);
  requireMigratable(c, source.name);
  const name = o.name ?? c.name;
  report.workload.source = c.name;
  await requireTools(source, ['docker', ...IMAGE_TOOLS]);
  await requireCriu(source);
  emit({ kind: 'step', step: 'preflight', host: target.name });
  await requireCriu(target);
  const rss = await residentBytes(source, c.id);
  const tcp = o.tcp ?? 'refuse';
  const { pids } = await describeTree(source, c.raw.State.Pid);
  await requireOneTree(source, `container ${c.name}`, pids, await containerProcesses(source, c.id));
  const open = await requireDumpable(source, pids, `container ${c.name}`, tcp);
  report.tcp = { policy: tcp, established: open.length, closed: 0 };
  const { strategy, reason, lazyFinish } = await pickStrategy(source, target, o.strategy ?? 'auto', rss, o.autoMemoryMin);
  report.strategy = strategy;
  report.strategy_reason = reason;
  report.restore = await chooseRestore(target, { strategy, restore: o.restore });
  await requireRoom(target, workRoot, checkpointBytes(rss), ['docker']);
  // Pre-copy pre-dumps with runc directly: its state of the container must be found first.
  const runcRoot = strategy === 'precopy' || strategy === 'hybrid' ? await dockerRuncRoot(source, c.id) : undefined;
  const sendImageFirst = o.transferImage === true && !(await hasImage(target, c.image));
  await requireDockerTarget(target, c, name, sendImageFirst);
  const fsOptions: FilesystemOptions = { volumeMap: o.volumeMap, force: o.force, copyBindMounts: o.copyBindMounts, zstdLevel: o.zstdLevel, signal: o.signal };
  const plan = await planFilesystem(source, target, c, fsOptions);
  return underLock(source, `/run/lock/migrate-container-${c.id.slice(0, 12)}.lock`, `container ${c.name}`, o, report, started, async () => {
    if (sendImageFirst) {
      emit({ kind: 'step', step: 'image', host: target.name, detail: `sending image ${c.image}` });
      const imageStarted = Date.now();
      report.bytes.image = (await sendImage(source, target, c.image, o.signal)).wireBytes;
      report.phases_ms.image = Date.now() - imageStarted;
    }
    throwIfAborted(o.signal);
    return await runStrategy(strategy, {
      source, target, report, workRoot, emit,
      workload: new DockerWorkload(source, target, c, name, plan, fsOptions, runcRoot, tcp),
      pages: report.pages, restore: report.restore, zstdLevel: o.zstdLevel, keepSource: o.keepSource, signal: o.signal, faults: o.faults,
    }, o.precopy, c.id.slice(0, 12), lazyFinish);
  });
}
