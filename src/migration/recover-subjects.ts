/**
 * What `migrate recover` (recover.ts) needs to know of each kind of workload: its copy on the
 * source (stopped by a dead run, or running), its copy on the target (a Docker twin by its label;
 * a restored tree by the PID file its restore wrote beside the run's directory), how to end or
 * remove either, and what else a run leaves.
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { TWIN_LABEL, inspectContainer } from '../docker/container.js';
import { containersLabelled, deleteCheckpoint, removeContainer } from '../docker/containers.js';
import { containerKeys } from './kinds/docker.js';
import { treeKeys } from './kinds/tree.js';
import { describeTree, procStat } from '../process/tree.js';
import { CHECKPOINT } from './docker-workload.js';

export interface CopyOnSource {
  /** Its processes there; [] when it is gone. */
  pids: number[];
  /** Stopped (SIGSTOP, nothing tracing it): as a run that died leaves it. */
  stopped: boolean;
  runs: boolean;
}

export interface CopyOnTarget {
  /** running: it runs there; stale: something of it is there but does not run; none. */
  state: 'running' | 'stale' | 'none';
  /** How messages name it: "its twin 3f2a…", "its restored tree (PID 5150)". */
  what: string;
}

export interface RecoverSubject {
  /** "container web", "process tree 4242". */
  label: string;
  /** Its migration lock on the source. */
  lockPath: string;
  /** How its runs name their directories and guard locks. */
  runPrefix: string;
  sourceCopy(): Promise<CopyOnSource>;
  targetCopy(): Promise<CopyOnTarget>;
  endSourceCopy(): Promise<void>;
  removeTargetCopy(): Promise<void>;
  /** What else its runs leave, removed; says what it removed. */
  removeExtras(): Promise<string[]>;
}

async function copyOf(t: Transport, root: number): Promise<CopyOnSource> {
  const st = root > 0 ? await procStat(t, root) : undefined;
  if (!st || st.state === 'Z') return { pids: [], stopped: false, runs: false };
  const pids = (await describeTree(t, root)).pids;
  const tracer = (await t.exec(['sed', '-n', 's/^TracerPid:[[:space:]]*//p', `/proc/${root}/status`], { allowFailure: true })).stdout.trim();
  const stopped = st.state === 'T' && (tracer === '' || tracer === '0');
  return { pids, stopped, runs: st.state !== 'T' && st.state !== 't' };
}

export async function containerSubject(source: Transport, target: Transport, ref: string): Promise<RecoverSubject> {
  const c = await inspectContainer(source, ref);
  const twin = async () => {
    const [found] = await containersLabelled(target, `${TWIN_LABEL}=${c.id}`);
    return { tid: found?.id.slice(0, 12) ?? '', state: found?.state ?? '' };
  };
  return {
    label: `container ${c.name}`,
    ...containerKeys(c.id),
    sourceCopy: () => copyOf(source, c.raw.State.Pid),
    async targetCopy() {
      const { tid, state } = await twin();
      return { state: !tid ? 'none' : state === 'running' ? 'running' : 'stale', what: `its twin ${tid} (${state || 'none'})` };
    },
    endSourceCopy: () => removeContainer(source, c.id),
    async removeTargetCopy() {
      const { tid } = await twin();
      if (tid) await removeContainer(target, tid, { volumes: true });
    },
    async removeExtras() {
      return (await deleteCheckpoint(source, c.id, CHECKPOINT)) ? [`removed Docker's checkpoint "${CHECKPOINT}" on ${source.name}`] : [];
    },
  };
}

/**
 * A process tree: found on the target by the PID files its restores wrote (workload.ts
 * restoredPidFile: `<workRoot>/pid-PID-START-<time>.pid`), checked to be the same program.
 */
export async function treeSubject(source: Transport, target: Transport, pid: number, workRoot: string): Promise<RecoverSubject> {
  const st = await procStat(source, pid);
  if (!st) throw new MigrateError('PREFLIGHT', `no process with PID ${pid}`, { host: source.name, hint: 'give the PID of the tree\'s root process on the source' });
  const { lockPath, runPrefix } = treeKeys(pid, st.startTime);
  const comm = async (t: Transport, p: number) => (await t.exec(['cat', `/proc/${p}/comm`], { allowFailure: true })).stdout.trim();
  const name = await comm(source, pid);
  const records = async () => (await target.exec(['find', workRoot, '-mindepth', '1', '-maxdepth', '1', '-type', 'f', '-name', `${runPrefix}-*.pid`], { allowFailure: true }))
    .stdout.split('\n').filter((f) => new RegExp(`/${runPrefix}-\\d+\\.pid$`).test(f));
  const restored = async () => {
    for (const f of await records()) {
      const p = Number((await target.exec(['cat', f], { allowFailure: true })).stdout.trim());
      const there = p > 0 ? await procStat(target, p) : undefined;
      if (there && there.state !== 'Z' && (await comm(target, p)) === name) return p;
    }
    return undefined;
  };
  return {
    label: `process tree ${pid}`,
    lockPath,
    runPrefix,
    sourceCopy: () => copyOf(source, pid),
    async targetCopy() {
      const p = await restored();
      if (p) return { state: 'running', what: `its restored tree (PID ${p})` };
      return (await records()).length > 0 ? { state: 'stale', what: 'the record of a restore that does not run' } : { state: 'none', what: 'nothing' };
    },
    endSourceCopy: async () => void (await source.exec(['kill', '-KILL', ...(await describeTree(source, pid)).pids.map(String)])),
    async removeTargetCopy() {
      const p = await restored();
      if (p) await target.exec(['kill', '-KILL', String(p)], { allowFailure: true });
      for (const f of await records()) await target.exec(['rm', '-f', f]);
    },
    async removeExtras() {
      const gone = [];
      for (const f of await records()) {
        await target.exec(['rm', '-f', f]);
        gone.push(`removed ${posix.basename(f)} on ${target.name}`);
      }
      return gone;
    },
  };
}
