/**
 * A container's configuration as `docker inspect` reports it, and the `docker create` command
 * that reproduces it on another host. What cannot be reproduced is refused, by name.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError, isMigrateError } from '../../transports/errors.js';

export interface ContainerInfo {
  id: string;
  name: string;
  running: boolean;
  image: string;
  raw: Inspect;
}

/** The parts of `docker inspect` migrate reads. */
export interface Inspect {
  Id: string;
  Name: string;
  Image: string;
  State: { Running: boolean; Paused: boolean; Pid: number };
  Config: {
    Image: string;
    Entrypoint: string[] | null;
    Cmd: string[] | null;
    Env: string[] | null;
    Labels: Record<string, string> | null;
    WorkingDir: string;
    User: string;
    Tty: boolean;
    OpenStdin: boolean;
    Hostname: string;
    StopSignal?: string;
    /** Volumes declared by the image or with `-v /path` (anonymous volumes). */
    Volumes?: Record<string, unknown> | null;
  };
  HostConfig: {
    Binds: string[] | null;
    NetworkMode: string;
    PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> | null;
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    SecurityOpt: string[] | null;
    CapAdd: string[] | null;
    CapDrop: string[] | null;
    Privileged: boolean;
    Memory: number;
    NanoCpus: number;
    Tmpfs: Record<string, string> | null;
    ShmSize: number;
    AutoRemove: boolean;
    /** Mounts given with --mount (not in Binds). */
    Mounts?: HostMount[] | null;
  };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean; Driver?: string }>;
  GraphDriver?: { Name: string; Data: Record<string, string> | null };
}

export interface HostMount {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** Anonymous volumes are named by 64 hex digits; named ones by the user. */
export const isAnonymousVolume = (name: string | undefined): boolean => !name || /^[0-9a-f]{64}$/.test(name);

export async function inspectContainer(t: Transport, ref: string): Promise<ContainerInfo> {
  let out: string;
  try {
    out = (await t.exec(['docker', 'container', 'inspect', ref])).stdout;
  } catch (e) {
    if (isMigrateError(e, 'COMMAND_FAILED') && /No such container/i.test(e.stderr ?? '')) {
      throw new MigrateError('PREFLIGHT', `no container "${ref}"`, { host: t.name, hint: 'check the name with docker ps' });
    }
    throw e;
  }
  const raw = (JSON.parse(out) as Inspect[])[0]!;
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ''),
    running: raw.State.Running && !raw.State.Paused,
    image: raw.Config.Image,
    raw,
  };
}

/** Reasons the container cannot be recreated as it is on the target (empty when it can). */
export function unsupported(c: ContainerInfo): string[] {
  const r: string[] = [];
  const h = c.raw.HostConfig;
  if (c.raw.Config.Tty || c.raw.Config.OpenStdin) r.push('it has a terminal or open stdin (-t/-i); CRIU cannot move an attached console');
  if (h.AutoRemove) r.push('it was started with --rm; Docker would delete it at checkpoint');
  if (h.NetworkMode.startsWith('container:')) r.push(`it shares another container's network (${h.NetworkMode})`);
  for (const m of c.raw.Mounts) {
    if (m.Type === 'volume' && m.Driver && m.Driver !== 'local') r.push(`volume ${m.Name} at ${m.Destination} uses volume driver ${m.Driver} (only local volumes are copied)`);
    if (m.Type !== 'volume' && m.Type !== 'bind' && m.Type !== 'tmpfs') r.push(`mount ${m.Destination} of type ${m.Type}`);
  }
  return r;
}

/** Bind-mount sources that the target must have. */
export function bindSources(c: ContainerInfo): string[] {
  return c.raw.Mounts.filter((m) => m.Type === 'bind').map((m) => m.Source);
}

/** The container's volumes (named and anonymous), with where they are mounted. */
export function volumeMounts(c: ContainerInfo): Array<{ name: string; source: string; destination: string; anonymous: boolean }> {
  return c.raw.Mounts.filter((m) => m.Type === 'volume')
    .map((m) => ({ name: m.Name ?? '', source: m.Source, destination: m.Destination, anonymous: isAnonymousVolume(m.Name) }));
}

/** Marks a container migrate created on a target: the ID of the container it is a twin of. */
export const TWIN_LABEL = 'migrate.twin-of';

/**
 * `docker create` arguments reproducing the container's configuration. `volumeMap` renames named
 * volumes on the target (--volume-map).
 */
export function createArgs(c: ContainerInfo, name: string, volumeMap: ReadonlyMap<string, string> = new Map()): string[] {
  const cfg = c.raw.Config;
  const h = c.raw.HostConfig;
  const args = ['docker', 'create', '--name', name];
  for (const e of cfg.Env ?? []) args.push('--env', e);
  for (const [k, v] of Object.entries(cfg.Labels ?? {})) args.push('--label', `${k}=${v}`);
  args.push('--label', `${TWIN_LABEL}=${c.id}`); // after the copied ones: it wins over an older one
  if (cfg.WorkingDir) args.push('--workdir', cfg.WorkingDir);
  if (cfg.User) args.push('--user', cfg.User);
  if (cfg.Hostname) args.push('--hostname', cfg.Hostname);
  if (cfg.StopSignal) args.push('--stop-signal', cfg.StopSignal);
  for (const s of h.SecurityOpt ?? []) args.push('--security-opt', s);
  for (const cap of h.CapAdd ?? []) args.push('--cap-add', cap);
  for (const cap of h.CapDrop ?? []) args.push('--cap-drop', cap);
  if (h.Privileged) args.push('--privileged');
  if (h.Memory) args.push('--memory', String(h.Memory));
  if (h.NanoCpus) args.push('--cpus', String(h.NanoCpus / 1e9));
  if (h.ShmSize) args.push('--shm-size', String(h.ShmSize));
  if (h.NetworkMode && h.NetworkMode !== 'default') args.push('--network', h.NetworkMode);
  for (const [k, v] of Object.entries(h.Tmpfs ?? {})) args.push('--tmpfs', v ? `${k}:${v}` : k);
  const mapped = (src: string) => volumeMap.get(src) ?? src;
  for (const b of h.Binds ?? []) {
    const at = b.indexOf(':');
    args.push('--volume', at > 0 && !b.startsWith('/') ? mapped(b.slice(0, at)) + b.slice(at) : b);
  }
  for (const m of h.Mounts ?? []) {
    const parts = [`type=${m.Type}`, ...(m.Source ? [`source=${m.Type === 'volume' ? mapped(m.Source) : m.Source}`] : []), `target=${m.Target}`];
    if (m.ReadOnly) parts.push('readonly');
    if (m.TmpfsOptions?.SizeBytes) parts.push(`tmpfs-size=${m.TmpfsOptions.SizeBytes}`);
    if (m.TmpfsOptions?.Mode) parts.push(`tmpfs-mode=${m.TmpfsOptions.Mode.toString(8)}`);
    args.push('--mount', parts.join(','));
  }
  // Anonymous volumes made with `-v /path` (the image's own are made again by Docker anyway).
  const mountedAt = new Set([...(h.Binds ?? []).map((b) => b.split(':')[1]), ...(h.Mounts ?? []).map((m) => m.Target)]);
  for (const dest of Object.keys(cfg.Volumes ?? {})) if (!mountedAt.has(dest)) args.push('--volume', dest);
  for (const [port, bindings] of Object.entries(h.PortBindings ?? {})) {
    for (const b of bindings) args.push('--publish', `${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort}:${port}`);
  }
  if (h.RestartPolicy?.Name && h.RestartPolicy.Name !== 'no') {
    args.push('--restart', h.RestartPolicy.Name === 'on-failure' ? `on-failure:${h.RestartPolicy.MaximumRetryCount}` : h.RestartPolicy.Name);
  }
  // The entrypoint is replaced by its first word; the rest become the first arguments.
  const entry = cfg.Entrypoint ?? [];
  if (entry.length > 0) args.push('--entrypoint', entry[0]!);
  args.push(cfg.Image, ...entry.slice(1), ...(cfg.Cmd ?? []));
  return args;
}
