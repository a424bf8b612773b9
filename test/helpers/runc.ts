/**
 * Containers runc runs by itself in the soft-dirty guest, for the runc and pre-copy tests: a
 * bundle of busybox and memload under /var/tmp (shared by the guest's hosts A and B, as shared
 * storage would be), memload's output in a bind-mounted directory there too.
 *
 * The guest's two hosts share one cgroup tree, which real hosts do not: host B sees the bundle
 * through a bind mount (in its own mount namespace) of a copy whose config.json names another
 * cgroup, so the stopped source container and the restored one never share a cgroup.
 */
import type { Transport } from '../../transports/transport.js';
import { readFileVia, writeFileVia } from '../../transports/files.js';

export interface RuncContainer {
  id: string;
  /** Host PID of its init (memload) on A. */
  pid: number;
  /** memload's output, readable from both hosts. */
  out: string;
  bundle: string;
  remove(): Promise<void>;
}

let n = 0;

interface Spec {
  process: { terminal: boolean; args: string[] };
  root: { readonly: boolean };
  mounts: Array<{ destination: string; type: string; source: string; options: string[] }>;
  linux: { cgroupsPath?: string; namespaces: Array<{ type: string }> };
}

export async function startRuncContainer(a: Transport, b: Transport, memloadArgs: string[], where = '/var/tmp/migrate-runc'): Promise<RuncContainer> {
  const id = `mr-${process.pid}-${++n}`;
  const dir = `${where}/${id}`;
  const bundle = `${dir}/bundle`;
  await a.exec(['sh', '-ec',
    'mkdir -p "$1/rootfs/bin" "$1/rootfs/out" "$2/out" "$2/bundle-b"; cp /usr/bin/busybox /usr/local/bin/memload "$1/rootfs/bin/"; ' +
    'ln -s busybox "$1/rootfs/bin/sh"; runc spec --bundle "$1"', 'bundle', bundle, dir]);
  const spec = JSON.parse((await readFileVia(a, `${bundle}/config.json`)).toString('utf8')) as Spec;
  spec.process.terminal = false;
  spec.process.args = ['/bin/sh', '-c', 'exec /bin/memload "$@" > /out/out.log 2>&1', 'memload', ...memloadArgs];
  spec.root.readonly = false;
  spec.mounts.push({ destination: '/out', type: 'bind', source: `${dir}/out`, options: ['rbind', 'rw'] });
  // No network namespace: CRIU would lock it with iptables, which the guest does not have.
  spec.linux.namespaces = spec.linux.namespaces.filter((ns) => ns.type !== 'network');
  const config = (cgroup: string) => JSON.stringify({ ...spec, linux: { ...spec.linux, cgroupsPath: `/migrate-runc/${cgroup}/${id}` } }, null, 1);
  await writeFileVia(a, `${bundle}/config.json`, config('a'), '0644');
  // B's view of the bundle: the same rootfs, its own cgroup.
  await a.exec(['sh', '-ec', 'mkdir -p "$2/rootfs"; cp -a "$1/rootfs/." "$2/rootfs/"', 'copy', bundle, `${dir}/bundle-b`]);
  await writeFileVia(a, `${dir}/bundle-b/config.json`, config('b'), '0644');
  // (A bundle in a directory B does not share, e.g. under /root, stays missing on B.)
  const onB = (await b.exec(['test', '-d', bundle], { allowFailure: true })).exitCode === 0;
  if (onB) await b.exec(['mount', '--bind', `${dir}/bundle-b`, bundle]);
  await a.exec(['sh', '-c', 'cd "$1" && runc run --detach "$2" < /dev/null > /dev/null 2>&1', 'run', bundle, id]);
  const out = `${dir}/out/out.log`;
  const state = JSON.parse((await a.exec(['runc', 'state', id])).stdout) as { pid: number };
  for (let i = 0; i < 100; i++) {
    if ((await a.exec(['grep', '-q', '^tick', out], { allowFailure: true })).exitCode === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    id, pid: state.pid, out, bundle,
    remove: async () => {
      for (const h of [a, b]) await h.exec(['runc', 'delete', '--force', id], { allowFailure: true });
      if (onB) await b.exec(['umount', bundle], { allowFailure: true });
      await a.exec(['rm', '-rf', dir]);
    },
  };
}

/** The container's init PID on a host (0 when runc does not know it there). */
export async function runcPid(t: Transport, id: string): Promise<number> {
  const r = await t.exec(['runc', 'state', id], { allowFailure: true });
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as { pid: number }).pid : 0;
}
