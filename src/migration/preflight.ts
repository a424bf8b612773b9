/**
 * Checks made before anything is frozen. Each failure names the host and what to do.
 */
import type { Transport } from '../../transports/transport.js';
import { basicCheck, hasFeature } from '../criu/features.js';
import type { RestoreMode } from './report.js';
import { chooseStrategy, factsNeeded, type Strategy, type StrategyChoice } from './strategy.js';
import { requirePrecopy } from './precopy.js';
import { MIN_CRIU_TCP, criuVersion, versionProblem } from '../criu/version.js';
import { TWIN_LABEL, unsupported, type ContainerInfo, type Inspect } from '../docker/container.js';
import { findContainer } from '../docker/containers.js';
import { engineCall, engineFind } from '../docker/engine.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';
import { requirePrivateDir } from '../private-dir.js';

/**
 * What a host runs to checkpoint, stream and restore images (the target always; a container's
 * source too, which docker.ts asks for with docker itself).
 */
export const IMAGE_TOOLS = ['criu', 'zstd', 'tar', 'sha256sum', 'tee', 'mkfifo', 'mktemp', 'flock', 'bash', 'find'];

export async function requireTools(t: Transport, tools: string[]): Promise<void> {
  const r = await t.exec(hostScript('list-missing-tools', ...tools));
  const missing = r.stdout.split('\n').filter(Boolean);
  if (missing.length > 0) {
    throw new MigrateError('PREFLIGHT', `missing on this host: ${missing.join(', ')}`, { host: t.name, hint: `install ${missing.join(' ')} there` });
  }
}

export async function requireCriu(t: Transport): Promise<void> {
  const [version, kernel] = await Promise.all([criuVersion(t), t.exec(['uname', '-r'])]);
  const tooOld = versionProblem(version, kernel.stdout);
  if (tooOld) {
    throw new MigrateError('CRIU_UNUSABLE', tooOld, { host: t.name, hint: `install CRIU ${MIN_CRIU_TCP.text} or newer there (lab/provision.sh builds it from Debian's source package)` });
  }
  const check = await basicCheck(t);
  if (!check.ok) {
    throw new MigrateError('CRIU_UNUSABLE', '`criu check` fails', { host: t.name, stderr: check.output, hint: 'run criu check there and fix what it reports (kernel features, capabilities)' });
  }
}

export function requireMigratable(c: ContainerInfo, host: string): void {
  if (!c.running) {
    throw new MigrateError('PREFLIGHT', `container ${c.name} is not running`, { host, hint: 'start it first; only running containers are live-migrated' });
  }
  const reasons = unsupported(c);
  if (reasons.length > 0) {
    throw new MigrateError('PREFLIGHT', `container ${c.name} cannot be migrated: ${reasons.join('; ')}`, { host });
  }
}

/**
 * The work root on a host (both hold checkpoints): made 0700 when missing, refused when another
 * user owns it or may write into it, or when it is a symlink. Returns the KiB free under it.
 */
export const requireWorkRoot = (t: Transport, workRoot: string): Promise<number> => requirePrivateDir(t, workRoot, 'the work directory');

/** The target can receive a checkpoint: tools present, a private work root, and room under it. */
export async function requireRoom(target: Transport, workRoot: string, needBytes: number, extraTools: string[] = []): Promise<void> {
  await requireTools(target, [...IMAGE_TOOLS, ...extraTools]);
  const availKiB = await requireWorkRoot(target, workRoot);
  if (Number.isFinite(availKiB) && availKiB * 1024 < needBytes) {
    throw new MigrateError('PREFLIGHT', `not enough free space under ${workRoot} on the target: ${Math.round(availKiB / 1024)} MiB free, about ${Math.ceil(needBytes / 2 ** 20)} MiB needed`, {
      host: target.name,
      hint: `free space there or point MIGRATE_WORK_DIR at a larger filesystem`,
    });
  }
}

/** What a checkpoint of `rss` resident bytes needs on disk, with room for the other images. */
export const checkpointBytes = (rss: number): number => Math.ceil(rss * 1.1) + 64 * 2 ** 20;

/** The target can run the container: image present (or sendable), name free (its files: container-fs.ts). */
export async function requireDockerTarget(target: Transport, c: ContainerInfo, name: string, imageWillBeSent = false): Promise<void> {
  if (!imageWillBeSent && !(await hasImage(target, c.image))) {
    throw new MigrateError('PREFLIGHT', `image ${c.image} is not on the target`, {
      host: target.name,
      hint: `add --transfer-image to send it (docker save | docker load over SSH), or load it there first`,
    });
  }
  const taken = await findContainer(target, name);
  if (taken && !isTwinThatNeverRan(taken, c.id)) {
    throw new MigrateError('PREFLIGHT', `a container named ${name} already exists on the target`, { host: target.name, hint: 'remove it there, or choose another name with --name' });
  }
}

/**
 * A container of that name that migrate created for this same source container and that never
 * ran: the twin of a run that died. The next run replaces it (under the container's lock).
 */
export async function isStaleTwin(target: Transport, name: string, sourceId: string): Promise<boolean> {
  const there = await findContainer(target, name);
  return there !== undefined && isTwinThatNeverRan(there, sourceId);
}

const isTwinThatNeverRan = (c: Inspect, sourceId: string): boolean => c.Config.Labels?.[TWIN_LABEL] === sourceId && c.State.Status === 'created';

export async function hasImage(t: Transport, image: string): Promise<boolean> {
  return (await engineFind(t, `inspect image ${image}`, (d) => d.getImage(image).inspect())) !== undefined;
}

/** Every process in the container (its cgroup, as docker top lists it). */
export async function containerProcesses(source: Transport, ref: string): Promise<Array<{ pid: number; command: string }>> {
  const top = await engineCall(source, `list the processes of container ${ref}`, (d) => d.getContainer(ref).top({ ps_args: '-eo pid,args' }) as Promise<{ Titles: string[]; Processes: string[][] }>);
  const [pid, args] = ['PID', 'COMMAND'].map((t) => top.Titles.indexOf(t));
  return top.Processes.map((p) => ({ pid: Number(p[pid!]), command: (p[args!] ?? '').slice(0, 60) }));
}

/** Resident memory of the container's processes: what its checkpoint will roughly weigh. */
export async function residentBytes(source: Transport, ref: string): Promise<number> {
  const pids = (await containerProcesses(source, ref)).map((p) => String(p.pid));
  const r = await source.exec(hostScript('sum-rss', ...pids), { allowFailure: true });
  return Number(r.stdout.trim() || 0) * 1024;
}

/**
 * The strategy to run: the one asked for (checked: pre-copy needs soft-dirty), or with `auto`
 * the one chooseStrategy picks from the hosts' features (probed only as far as needed) and the
 * workload's size.
 */
export async function pickStrategy(source: Transport, target: Transport, requested: Strategy | 'auto',
  residentBytes: number, memoryMin?: number): Promise<StrategyChoice> {
  if (requested === 'precopy' || requested === 'hybrid') await requirePrecopy(source, target);
  if (requested !== 'auto') return { strategy: requested, reason: `asked for (--strategy ${requested})` };
  const need = factsNeeded(residentBytes, memoryMin);
  const [sourceSoftDirty, targetUffd] = await Promise.all([
    need.softDirty ? hasFeature(source, 'mem_dirty_track') : undefined,
    need.uffd ? hasFeature(target, 'uffd-noncoop') : undefined,
  ]);
  return chooseStrategy({ residentBytes, sourceSoftDirty, targetUffd, memoryMin });
}

/**
 * Lazy restore (the workload resumes at once, its memory filled through userfaultfd) needs
 * CRIU's uffd-noncoop on the target. Default: lazy where it works, eager elsewhere.
 */
export async function chooseRestore(target: Transport, o: { strategy?: string; restore?: RestoreMode }): Promise<RestoreMode> {
  // Post-copy restores lazily by nature: the target needs userfaultfd either way.
  const wanted = o.strategy === 'postcopy' || o.strategy === 'hybrid' ? 'lazy' : o.restore;
  if (wanted === 'eager') return 'eager';
  const ok = await hasFeature(target, 'uffd-noncoop');
  if (ok) return 'lazy';
  if (wanted === 'lazy') {
    throw new MigrateError('PREFLIGHT', 'lazy restore needs userfaultfd (criu check --feature uffd-noncoop fails)', { host: target.name, hint: 'use --restore eager' });
  }
  return 'eager';
}
