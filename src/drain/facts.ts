/**
 * What a drain's plan is made from (plan.ts): the running containers on the source that match
 * the selection, their resident memory, and for each target its available memory, free disk
 * under the work root, images, userfaultfd, and the link's throughput measured now.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { hasFeature } from '../criu/features.js';
import { engineCall } from '../docker/engine.js';
import { hasImage, requireWorkRoot, residentBytes } from '../migration/preflight.js';
import { describeTree } from '../process/tree.js';
import { DEFAULT_RUNC_ROOT, runcState } from '../runc/runc.js';
import type { Candidate, TargetFacts } from './plan.js';

/**
 * `--select` filters, Docker's own (`docker ps --filter`): `label=tier=cache`, `name=web`,
 * `ancestor=redis`, ... Each KEY=VALUE; several of one key match any, of different keys all.
 */
export function parseFilters(select: readonly string[]): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (const s of select) {
    const m = /^([a-z-]+)=(.+)$/.exec(s);
    if (!m) throw new MigrateError('BAD_INPUT', `Expected --select to be KEY=VALUE (a docker ps filter, e.g. label=tier=cache or name=web), got \`${s}\``);
    (filters[m[1]!] ??= []).push(m[2]!);
  }
  return filters;
}

/** The running containers on the source that match, with their resident memory. */
export async function selectContainers(source: Transport, filters: Record<string, string[]>): Promise<Candidate[]> {
  const list = await engineCall(source, 'list its running containers', (d) => d.listContainers({ filters: { ...filters, status: ['running'] } }));
  return Promise.all(list.map(async (c): Promise<Candidate> => ({
    kind: 'docker',
    name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
    id: c.Id,
    image: c.Image,
    rss: await residentBytes(source, c.Id),
  })));
}

/** Process trees by their root's PID (`--pids`): each must run on the source. */
export async function selectTrees(source: Transport, pids: readonly number[]): Promise<Candidate[]> {
  return Promise.all(pids.map(async (pid): Promise<Candidate> => {
    const tree = await describeTree(source, pid);
    if (tree.pids.length === 0) throw new MigrateError('PREFLIGHT', `no process ${pid} on the source`, { host: source.name, hint: 'check the PID with ps' });
    return { kind: 'tree', name: `pid ${pid}`, id: String(pid), rss: tree.rss };
  }));
}

/** Containers runc runs by itself (`--runc`): each must be running under `root` on the source. */
export async function selectRunc(source: Transport, ids: readonly string[], root = DEFAULT_RUNC_ROOT): Promise<Candidate[]> {
  return Promise.all(ids.map(async (id): Promise<Candidate> => {
    const state = await runcState(source, root, id);
    if (state?.status !== 'running') {
      throw new MigrateError('PREFLIGHT', `runc container ${id} is ${state ? state.status : 'unknown'} under ${root}`, { host: source.name, hint: `check it with runc --root ${root} list` });
    }
    return { kind: 'runc', name: `runc ${id}`, id, rss: (await describeTree(source, state.pid)).rss };
  }));
}

/** Bytes sent to measure the link, after PRIME (sshd's first megabytes cost extra: transports/ssh/prime.ts). */
const PROBE_BYTES = 32 << 20;

/** The controller → host link's throughput in bytes per second, with incompressible data. */
export async function measureThroughput(t: Transport): Promise<number> {
  await t.prime();
  const sink = t.spawn(['sh', '-c', 'cat > /dev/null']);
  sink.stdout.resume();
  const chunk = randomBytes(1 << 20);
  const started = process.hrtime.bigint();
  await Promise.all([pipeline(Readable.from(Array.from({ length: PROBE_BYTES >> 20 }, () => chunk)), sink.stdin), sink.done]);
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  return PROBE_BYTES / Math.max(s, 1e-3);
}

/**
 * The source's link, the other leg of a move through this controller: measured like a target's
 * (controller → source, as a stand-in for the way back: an SSH connection carries both alike);
 * undefined when the source is this machine.
 */
export async function sourceThroughput(t: Transport): Promise<number | undefined> {
  return t.isLocal ? undefined : measureThroughput(t);
}

export async function memoryAvailable(t: Transport): Promise<number> {
  const r = await t.exec(['sed', '-n', 's/^MemAvailable:[[:space:]]*\\([0-9]*\\) kB$/\\1/p', '/proc/meminfo']);
  return Number(r.stdout.trim()) * 1024;
}

export async function targetFacts(t: Transport, images: readonly string[], workRoot: string): Promise<TargetFacts> {
  const [memoryFree, diskKiB, have, uffd, throughput] = await Promise.all([
    memoryAvailable(t),
    requireWorkRoot(t, workRoot),
    Promise.all(images.map((i) => hasImage(t, i))),
    hasFeature(t, 'uffd-noncoop'),
    measureThroughput(t),
  ]);
  return { host: t.name, memoryFree, diskFree: diskKiB * 1024, images: images.filter((_, i) => have[i]), uffd, throughput };
}
