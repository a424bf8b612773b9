/**
 * CRIU options for a container's restore on the target that work around what CRIU cannot do
 * with the mounts Docker gives it: a bind mount whose host path is a symlink (Debian's
 * docker-init → tini-static for `--init`; any bind of a symlinked file) fails the restore in
 * CRIU 4.2's mount-v2 (`Can't remount … with MS_PRIVATE: No such file or directory`), even for
 * Docker's own checkpoint and restore on one host. runc hands CRIU `--external
 * mnt[MOUNTPOINT]:HOSTPATH` for each; an `external` line in runc.conf for the same mountpoint
 * naming the real file wins (verified in the lab: `docker run --init` then restores).
 */
import type { Transport } from '../../transports/transport.js';
import { hostScript } from '../host-scripts/index.js';
import type { Inspect } from './container.js';
import { boundHostPaths } from './twin.js';

/** runc.conf lines (`external mnt[/sbin/docker-init]:/usr/bin/tini-static`) for the target's symlinked bind sources. */
export async function restoreMountOptions(target: Transport, c: Inspect): Promise<string[]> {
  const paths = boundHostPaths(c);
  if (paths.length === 0) return [];
  const r = await target.exec(hostScript('resolve-symlinks', ...new Set(paths.map((p) => p.source))));
  const real = new Map(r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
  return paths.filter((p) => real.has(p.source)).map((p) => `external mnt[${p.destination}]:${real.get(p.source)}`);
}
