/**
 * Bind mounts --copy-bind-mounts must never copy: a host's system directories. The copy lands at
 * the same path on the target, and --force first deletes what the target holds there, so a
 * container started with `-v /etc:/host-etc` (or `-v /:/host`) would wipe the target's /etc (or
 * everything); copying one from the source would carry the source host's own files over.
 * Refused in preflight on both hosts, for the path as written and as it resolves there
 * (symlinks, `..`), with the hosts' own Docker data root and migrate's work root.
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';

/** A directory a copy must not replace, nor anything that holds it. */
export interface ProtectedPath {
  path: string;
  /** How messages name it: "a system directory", "Docker's data root". */
  what: string;
  /** Nothing inside it either (kernel filesystems, Docker's data root). */
  tree?: boolean;
  /** Its direct children too (/usr/bin, /usr/lib, ...). */
  children?: boolean;
}

/** The top-level system directories of a Linux host (FHS), / included. */
export const SYSTEM_DIRS = ['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/media', '/mnt', '/opt',
  '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var'];

/** System subtrees below them. */
export const SYSTEM_SUBDIRS = ['/var/lib', '/var/lib/docker', '/var/lib/containerd', '/var/lib/migrate', '/var/log', '/var/cache', '/var/spool',
  '/var/tmp', '/var/mail', '/var/backups', '/var/opt', '/var/local', '/var/run', '/var/lock', '/run/lock', '/run/docker', '/run/containerd',
  '/run/runc', '/run/migrate', '/etc/criu', '/etc/docker'];

/** Nothing at any depth inside these is copied: kernel filesystems, the boot loader's, container runtimes' state. */
const TREES = new Set(['/proc', '/sys', '/dev', '/boot', '/var/lib/docker', '/var/lib/containerd']);

export interface HostPaths {
  /** `docker info`'s DockerRootDir on that host. */
  dockerRoot?: string;
  /** migrate's work root (MIGRATE_WORK_DIR). */
  workRoot?: string;
}

/** Every protected path of a host, as written (not resolved). */
export function protectedPaths(host: HostPaths = {}): ProtectedPath[] {
  const list: ProtectedPath[] = []; // the host's own first: their names win in messages
  if (host.dockerRoot) list.push({ path: clean(host.dockerRoot), what: "Docker's data root", tree: true });
  if (host.workRoot) list.push({ path: clean(host.workRoot), what: "migrate's work directory" });
  return [...list, ...[...SYSTEM_DIRS, ...SYSTEM_SUBDIRS].map((path) => ({ path, what: 'a system directory', tree: TREES.has(path), children: path === '/usr' }))];
}

/** Absolute and normalised: `..` and `.` and repeated or trailing slashes gone. */
function clean(path: string): string {
  const p = posix.normalize(posix.join('/', path));
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

const inside = (p: string, dir: string) => dir === '/' ? p !== '/' : p.startsWith(`${dir}/`);

/** Why `path` must not be a copied bind mount, or undefined when it may be. */
export function systemPathReason(path: string, list: readonly ProtectedPath[]): string | undefined {
  const p = clean(path);
  for (const q of list) {
    if (p === q.path) return `is ${q.what}`;
    if (q.children && p !== q.path && posix.dirname(p) === q.path) return `is ${q.what} (in ${q.path})`;
  }
  for (const q of list) if (q.tree && inside(p, q.path)) return `is inside ${q.what} ${q.path}`;
  const held = list.find((q) => inside(q.path, p));
  return held ? `holds ${held.what} ${held.path}` : undefined;
}

/**
 * Refuses (PREFLIGHT) any of `paths` that is, holds or lies in a protected path of the host, as
 * written or as it resolves there. `side` says which host it is for the message.
 */
export async function refuseSystemPaths(t: Transport, paths: readonly string[], host: HostPaths, side: 'source' | 'target', force: boolean): Promise<void> {
  if (paths.length === 0) return;
  const written = protectedPaths(host);
  // One realpath for the bind sources and the protected paths (a symlinked /var moves /var/lib too).
  const resolved = (await t.exec(['realpath', '-m', '-z', '--', ...paths, ...written.map((q) => q.path)])).stdout.split('\0');
  const list = written.flatMap((q, i) => {
    const r = resolved[paths.length + i];
    return r && r !== q.path ? [q, { ...q, path: r }] : [q];
  });
  for (const [i, path] of paths.entries()) {
    const real = resolved[i] || path;
    const reason = systemPathReason(path, list) ?? systemPathReason(real, list);
    if (!reason) continue;
    const as = real === path ? path : `${path} (which resolves to ${real} there)`;
    const what = side === 'source' ? "--copy-bind-mounts would copy the host's own files to the target from"
      : force ? '--copy-bind-mounts --force would delete what the target holds at' : "--copy-bind-mounts would copy the container's files onto";
    throw new MigrateError('PREFLIGHT', `${what} bind mount ${as}, which ${reason}`, {
      host: t.name,
      hint: `bind-mount a directory of the container's own instead (e.g. /srv/NAME), or leave out --copy-bind-mounts and make sure ${path} on the target holds what the container needs`,
    });
  }
}
