/**
 * A container's configuration as Docker's Engine API inspects it, and what keeps it from being
 * checkpointed and made again on another host (refused by name; the twin itself: twin.ts).
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { findContainer } from './containers.js';
import type { Endpoint } from './twin.js';

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
  State: { Running: boolean; Paused: boolean; Pid: number; Status?: string };
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
    /** Set with --mac-address (deprecated place; the endpoint has it too). */
    MacAddress?: string;
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
    Runtime?: string;
    LogConfig?: { Type: string; Config?: Record<string, string> };
    Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }> | null;
    ContainerIDFile?: string;
    VolumesFrom?: string[] | null;
    Links?: string[] | null;
    IpcMode?: string;
    PidMode?: string;
    Init?: boolean | null;
  };
  NetworkSettings?: { Networks?: Record<string, Endpoint> | null };
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
  const raw = await findContainer(t, ref);
  if (!raw) throw new MigrateError('PREFLIGHT', `no container "${ref}"`, { host: t.name, hint: 'check the name with docker ps' });
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
  if (h.IpcMode?.startsWith('container:')) r.push(`it shares another container's IPC namespace (--ipc ${h.IpcMode})`);
  if (h.PidMode?.startsWith('container:')) r.push(`it shares another container's PID namespace (--pid ${h.PidMode})`);
  if (h.PidMode === 'host') r.push("it runs in the host's PID namespace (--pid host); CRIU moves containers with their own");
  if ((h.VolumesFrom ?? []).length > 0) r.push(`it mounts the volumes of other containers (--volumes-from ${h.VolumesFrom!.join(', ')}); migrate them as named volumes instead`);
  if ((h.Links ?? []).length > 0) r.push('it uses legacy --link; put the containers on a user-defined network instead (its names resolve there)');
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
