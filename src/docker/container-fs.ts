/**
 * A container's filesystem state beyond what CRIU carries (CRIU restores open files by path and
 * takes tmpfs contents, /dev/shm included, into its images; it never copies a disk):
 * - its writable layer: the overlay2 upper directory (new and changed files, whiteouts for
 *   deleted ones, opaque-directory xattrs), copied into the twin's upper directory before the
 *   twin first starts;
 * - its volumes, named (a volume of the same name on the target, or --volume-map's) and
 *   anonymous (the twin's own new one);
 * - with --copy-bind-mounts, its bind-mounted directories.
 * Each is a TreeSync: everything before the freeze, only the difference while frozen.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';
import { TreeSync, runPass, type FilesystemPass } from '../filesystem/tree-sync.js';
import { TWIN_LABEL, bindSources, volumeMounts, type ContainerInfo } from './container.js';
import { refuseSystemPaths } from './system-paths.js';
import { engineCall, engineFind } from './engine.js';
import { containersUsingVolume, daemonStorage, findContainer } from './containers.js';

export interface FilesystemOptions {
  /** Named volume on the source → name on the target. */
  volumeMap?: ReadonlyMap<string, string>;
  /** Copy into a non-empty target volume (or bind directory), replacing what it holds. */
  force?: boolean;
  /** Copy bind-mounted directories to the same path on the target (never a system directory: system-paths.ts). */
  copyBindMounts?: boolean;
  /** migrate's work root on both hosts: never a copied bind mount. */
  workRoot?: string;
  zstdLevel?: number;
  signal?: AbortSignal;
}

/** What preflight found out, so the copy needs no more decisions. */
export interface FilesystemPlan {
  /** Named volumes to create on the target (absent there), with their labels. */
  createVolumes: Array<{ name: string; labels: Record<string, string> }>;
  /** Target volumes and bind directories that are in the way and will be emptied first (--force). */
  replace: string[];
  /** Bind directories copied to the target. */
  copyBinds: string[];
  volumeMap: ReadonlyMap<string, string>;
}

interface VolumeInfo { Name: string; Driver: string; Mountpoint: string; Options: Record<string, string> | null; Labels: Record<string, string> | null }

async function inspectVolume(t: Transport, name: string): Promise<VolumeInfo | undefined> {
  return engineFind(t, `inspect volume ${name}`, (d) => d.getVolume(name).inspect() as Promise<VolumeInfo>);
}

/** Whether a directory on a host is missing or empty. */
async function isEmptyDir(t: Transport, path: string): Promise<boolean> {
  const r = await t.exec(hostScript('is-empty-dir', path), { allowFailure: true });
  return r.exitCode === 0;
}

/** Whether a running container uses the volume. */
async function inUse(t: Transport, name: string): Promise<boolean> {
  return (await containersUsingVolume(t, name)).length > 0;
}

/**
 * Preflight for the container's files: overlay2 on both ends, volumes local and not shared with
 * another running container, nothing on the target overwritten without --force, bind sources
 * present on the target (or copied, if they are no system directory on either host).
 */
export async function planFilesystem(source: Transport, target: Transport, c: ContainerInfo, o: FilesystemOptions): Promise<FilesystemPlan> {
  const volumeMap = o.volumeMap ?? new Map<string, string>();
  const hosts = [source, target] as const;
  const storage = await Promise.all(hosts.map(daemonStorage));
  for (const [i, t] of hosts.entries()) {
    if (storage[i]!.driver !== 'overlay2') {
      throw new MigrateError('PREFLIGHT', `Docker there uses the ${storage[i]!.driver} storage driver; migrate copies a container's writable layer between overlay2 daemons only`, {
        host: t.name, hint: 'run dockerd with --storage-driver overlay2 on both hosts',
      });
    }
  }
  if (o.copyBindMounts) {
    for (const [i, t] of hosts.entries()) {
      await refuseSystemPaths(t, bindSources(c), { dockerRoot: storage[i]!.root, workRoot: o.workRoot }, i === 0 ? 'source' : 'target', o.force ?? false);
    }
  }
  const plan: FilesystemPlan = { createVolumes: [], replace: [], copyBinds: [], volumeMap };
  const vols = volumeMounts(c);
  for (const name of volumeMap.keys()) {
    if (!vols.some((v) => v.name === name)) throw new MigrateError('BAD_INPUT', `--volume-map names ${name}, which container ${c.name} does not mount`);
  }
  for (const v of vols) {
    const others = (await containersUsingVolume(source, v.name)).filter((id) => id !== c.id);
    if (others.length > 0) {
      throw new MigrateError('PREFLIGHT', `volume ${v.name} is also used by running container ${others[0]!.slice(0, 12)}; its data would split between the hosts`, {
        host: source.name, hint: 'stop the other containers using it first',
      });
    }
    if (v.anonymous) continue; // the twin gets a new anonymous volume of its own
    const info = await inspectVolume(source, v.name);
    if (info && Object.keys(info.Options ?? {}).length > 0) {
      throw new MigrateError('PREFLIGHT', `volume ${v.name} has driver options (${Object.entries(info.Options!).map(([k, x]) => `${k}=${x}`).join(',')}): its data is not plain local data to copy`, {
        host: source.name, hint: 'create the same volume on the target yourself and migrate a container without it, or copy the data by hand',
      });
    }
    const targetName = volumeMap.get(v.name) ?? v.name;
    const there = await inspectVolume(target, targetName);
    const labels = { ...(info?.Labels ?? {}), [TWIN_LABEL]: c.id };
    if (!there) plan.createVolumes.push({ name: targetName, labels });
    else if (there.Labels?.[TWIN_LABEL] === c.id && !(await inUse(target, targetName))) {
      plan.replace.push(there.Mountpoint); // made by an earlier run for this container that died: a leftover
    } else if (!(await isEmptyDir(target, there.Mountpoint))) {
      if (!o.force) {
        throw new MigrateError('PREFLIGHT', `the target already has a volume ${targetName} with other data in it`, {
          host: target.name,
          hint: `copy into another volume with --volume-map ${v.name}=NEW_NAME, remove it there (docker volume rm ${targetName}), or replace its contents with --force`,
        });
      }
      plan.replace.push(there.Mountpoint);
    }
  }
  for (const src of bindSources(c)) {
    if (o.copyBindMounts) {
      const kind = await source.exec(['test', '-d', src], { allowFailure: true });
      if (kind.exitCode !== 0) {
        throw new MigrateError('PREFLIGHT', `bind mount source ${src} is not a directory; --copy-bind-mounts copies directories only`, {
          host: source.name, hint: `copy ${src} to the target yourself and leave out --copy-bind-mounts`,
        });
      }
      if (!(await isEmptyDir(target, src))) {
        if (!o.force) {
          throw new MigrateError('PREFLIGHT', `bind mount source ${src} already exists on the target and is not empty`, {
            host: target.name, hint: `leave out --copy-bind-mounts to use what is there, or replace it with --force`,
          });
        }
        plan.replace.push(src);
      }
      plan.copyBinds.push(src);
      continue;
    }
    const r = await target.exec(['test', '-e', src], { allowFailure: true });
    if (r.exitCode !== 0) {
      throw new MigrateError('PREFLIGHT', `bind mount source ${src} does not exist on the target`, {
        host: target.name, hint: `create ${src} there (the container's view of it must match), or add --copy-bind-mounts to copy it`,
      });
    }
  }
  return plan;
}

/** The copies of one container's files, once its twin exists on the target. */
export class ContainerFiles {
  private readonly trees: TreeSync[] = [];
  /** Volumes this run created on the target (removed again if the migration fails). */
  readonly createdVolumes: string[] = [];

  constructor(private readonly source: Transport, private readonly target: Transport, private readonly c: ContainerInfo,
    private readonly plan: FilesystemPlan, private readonly o: FilesystemOptions) {}

  /** Before `docker create` of the twin: the named volumes it will mount. */
  async createVolumes(): Promise<void> {
    for (const v of this.plan.createVolumes) {
      await engineCall(this.target, `create volume ${v.name}`, (d) => d.createVolume({ Name: v.name, Labels: v.labels }));
      this.createdVolumes.push(v.name);
    }
  }

  /** After `docker create`: pairs each source tree with its place in the twin, empties what --force replaces. */
  async attach(twinId: string): Promise<void> {
    const twin = await findContainer(this.target, twinId);
    if (!twin) throw new MigrateError('RESTORE_FAILED', `the twin ${twinId.slice(0, 12)} of ${this.c.name} is gone`, { host: this.target.name });
    const level = { level: this.o.zstdLevel ?? 3, signal: this.o.signal };
    const upper = (raw: ContainerInfo['raw'], host: Transport) => {
      const dir = raw.GraphDriver?.Data?.UpperDir;
      if (!dir) throw new MigrateError('PREFLIGHT', `container ${raw.Name} has no overlay2 upper directory`, { host: host.name });
      return dir;
    };
    this.trees.push(new TreeSync('writable layer', this.source, upper(this.c.raw, this.source), this.target, upper(twin, this.target), level));
    for (const v of volumeMounts(this.c)) {
      const there = twin.Mounts.find((m) => m.Type === 'volume' && m.Destination === v.destination);
      if (!there) throw new MigrateError('RESTORE_FAILED', `the twin of ${this.c.name} has no volume at ${v.destination}`, { host: this.target.name });
      this.trees.push(new TreeSync(`volume ${v.anonymous ? v.destination : v.name}`, this.source, v.source, this.target, there.Source, level));
    }
    for (const dir of this.plan.copyBinds) this.trees.push(new TreeSync(`bind ${dir}`, this.source, dir, this.target, dir, level));
    for (const dir of this.plan.replace) {
      await this.target.exec(['find', dir, '-mindepth', '1', '-delete']);
    }
  }

  beforeFreeze(): Promise<FilesystemPass> {
    return runPass(this.trees, (t) => t.beforeFreeze());
  }

  whileFrozen(): Promise<FilesystemPass> {
    return runPass(this.trees, (t) => t.whileFrozen());
  }

  /** After a failure: stops copies in waiting, removes the volumes this run created. */
  async removeCreated(): Promise<void> {
    for (const t of this.trees) t.close();
    for (const name of this.createdVolumes.splice(0)) {
      await engineFind(this.target, `remove volume ${name}`, (d) => d.getVolume(name).remove({ force: true })).catch(() => {});
    }
  }
}
