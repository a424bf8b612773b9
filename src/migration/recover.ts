/**
 * `migrate recover`: puts back what a run that died left behind, on both hosts, for one workload
 * (a Docker container or a process tree: recover-subjects.ts). The hosts' guards (host-guard.ts)
 * already do this when migrate dies; this is for what they could not do (a guard killed too, a
 * host rebooted, a run that died after an eager restore began, when only the target may run the
 * workload and the source copy stays stopped). The next migrate of the workload runs it first.
 *
 *   guards      it waits until no guard of the workload still puts things back (their lock)
 *   runc.conf   still holding migrate's override → the previous file, on each host
 *   the copy    stopped on the source: if its copy runs on the target, the target's is the live
 *               one and the source's stopped copy is ended; otherwise what the target holds of it
 *               is removed and the source copy resumed
 *   leftovers   Docker's `migrate` checkpoint, restore records, the image directories
 *
 * It takes the workload's lock first, so it never touches a migration in progress.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { ignoreEvents, type EventSink } from '../events.js';
import { hostScript } from '../host-scripts/index.js';
import { LOCK_DIR, lockHost, lockInPrivateDir } from '../host-lock.js';
import { requirePrivateDir } from '../private-dir.js';
import { signalAll } from '../process/tree.js';
import { lockRuncConf, MARKER, RUNC_CONF, RUNC_CONF_BACKUP } from '../runc/runc-conf.js';
import { GUARD_WAIT_S, guardLockPath } from './host-guard.js';
import { defaultWorkRoot } from './options.js';
import { containerSubject, treeSubject, type RecoverSubject } from './recover-subjects.js';
import { unlockNetwork } from './source-network.js';
import type { RunsOn } from './report.js';

export interface RecoverOptions {
  source: Transport;
  target: Transport;
  /** A Docker container (name or ID) or a process tree (its root's PID), on the source. */
  workload: { container: string } | { pid: number };
  workRoot?: string;
  onEvent?: EventSink;
  /**
   * Resume a stopped source copy even without a sign of a dead run (`migrate recover`, which the
   * user asked for). The next migrate's own recovery leaves a workload stopped by someone else.
   */
  resumeUnmarked?: boolean;
}

export interface RecoverReport {
  /** "container web", "process tree 4242". */
  workload: string;
  /** What it did, in order ("put runc.conf back on root@10.231.0.2", ...); empty when nothing was left. */
  actions: string[];
  runs_on: RunsOn;
}

export async function recover(o: RecoverOptions): Promise<RecoverReport> {
  const workRoot = o.workRoot ?? defaultWorkRoot();
  const s = 'container' in o.workload
    ? await containerSubject(o.source, o.target, o.workload.container)
    : await treeSubject(o.source, o.target, o.workload.pid, workRoot);
  const lock = await lockInPrivateDir(o.source, s.lockPath, s.label);
  try {
    return await recoverLocked(o, s, workRoot);
  } finally {
    await lock.release();
  }
}

async function recoverLocked(o: RecoverOptions, s: RecoverSubject, workRoot: string): Promise<RecoverReport> {
  const emit = o.onEvent ?? ignoreEvents;
  const { source, target } = o;
  const report: RecoverReport = { workload: s.label, actions: [], runs_on: 'source' };
  emit({ kind: 'step', step: 'recover', host: source.name, detail: `waiting for the guards of ${s.label}` });
  const marked = await waitForGuards([source, target], guardLockPath(s.runPrefix));
  for (const h of [source, target]) {
    emit({ kind: 'step', step: 'recover', host: h.name, detail: 'runc.conf' });
    if (await restoreRuncConf(h)) report.actions.push(`put runc.conf back on ${h.name}`);
  }
  emit({ kind: 'step', step: 'recover', host: target.name, detail: s.label });
  report.runs_on = await settleCopies(o, s, marked, report.actions);
  report.actions.push(...(await s.removeExtras()));
  await removeDirs([source, target], workRoot, s.runPrefix, report.actions);
  return report;
}

/**
 * Waits, host by host, until no guard of the workload holds its lock (new guards cannot start:
 * the caller holds the workload's lock); whether the lock's file was there (a run with guards
 * happened: a stopped source copy is its leftover).
 */
async function waitForGuards(hosts: Transport[], path: string): Promise<boolean> {
  let existed = false;
  for (const h of hosts) {
    existed = (await h.exec(['test', '-e', path], { allowFailure: true })).exitCode === 0 || existed;
    await requirePrivateDir(h, LOCK_DIR, 'the lock directory', { exactMode: 0o700 });
    await (await lockHost(h, path, 'the guard of a migration that died', GUARD_WAIT_S + 60)).release();
  }
  return existed;
}

/** runc.conf still holding an override of a dead run: the previous file back, under its lock. */
async function restoreRuncConf(h: Transport): Promise<boolean> {
  const lock = await lockRuncConf(h);
  try {
    return (await h.exec(hostScript('restore-stale-runc-conf', RUNC_CONF, RUNC_CONF_BACKUP, MARKER))).stdout.includes('restored');
  } finally {
    await lock.release();
  }
}

/** Exactly one copy runs afterwards: the target's if it runs, else the source's. */
async function settleCopies(o: RecoverOptions, s: RecoverSubject, marked: boolean, actions: string[]): Promise<RunsOn> {
  const { source, target } = o;
  const [here, there] = await Promise.all([s.sourceCopy(), s.targetCopy()]);
  if (there.state === 'running') {
    if (here.runs) {
      throw new MigrateError('PREFLIGHT', `${s.label} runs on both hosts (${there.what} on ${target.name})`, {
        host: source.name, hint: 'decide which copy to keep and end the other; recover will not choose for you',
      });
    }
    if (here.stopped) {
      await s.endSourceCopy();
      actions.push(`ended the stopped copy on ${source.name}: ${there.what} runs on ${target.name}`);
    }
    return 'target';
  }
  if (there.state === 'stale') {
    await s.removeTargetCopy();
    actions.push(`removed ${there.what} from ${target.name}`);
  }
  if (here.stopped && (marked || there.state === 'stale' || o.resumeUnmarked)) {
    // The dump that stopped it left its own network namespace locked (none for a tree in the host's).
    const unlocked = await unlockNetwork(source, here.pids[0]!, s.label).then(() => '', (e: unknown) => `; ${e instanceof Error ? e.message : String(e)}`);
    await signalAll(source, 'CONT', here.pids);
    actions.push(`resumed the stopped ${s.label} on ${source.name}${unlocked}`);
    return 'source';
  }
  return here.pids.length > 0 ? 'source' : 'none'; // stopped by someone else: not ours to resume
}

/** The image directories of its runs on both hosts. */
async function removeDirs(hosts: Transport[], root: string, prefix: string, actions: string[]): Promise<void> {
  for (const h of hosts) {
    const found = await h.exec(['find', root, '-mindepth', '1', '-maxdepth', '1', '-type', 'd', '-name', `${prefix}-*`], { allowFailure: true });
    await h.exec(hostScript('remove-stale-dirs', root, prefix));
    const gone = found.stdout.split('\n').filter((d) => new RegExp(`/${prefix}-\\d+$`).test(d));
    for (const d of gone) actions.push(`removed ${d} on ${h.name}`);
  }
}
