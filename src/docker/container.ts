/**
 * A container's configuration as `docker inspect` reports it, and the `docker create` command
 * that reproduces it on another host. What cannot be reproduced is refused, by name.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError, isMigrateError } from '../errors.js';

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
  };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
}

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
    if (m.Type === 'volume') r.push(`named volume ${m.Name} at ${m.Destination} (volumes are not migrated yet)`);
  }
  return r;
}

/** Bind-mount sources that the target must have. */
export function bindSources(c: ContainerInfo): string[] {
  return c.raw.Mounts.filter((m) => m.Type === 'bind').map((m) => m.Source);
}

/** `docker create` arguments reproducing the container's configuration. */
/** Marks a container migrate created on a target: the ID of the container it is a twin of. */
export const TWIN_LABEL = 'migrate.twin-of';

export function createArgs(c: ContainerInfo, name: string): string[] {
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
  for (const b of h.Binds ?? []) args.push('--volume', b);
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
