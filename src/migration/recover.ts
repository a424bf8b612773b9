/**
 * `migrate recover`: puts back what a run that died left behind, on both hosts, for one Docker
 * container. The hosts' guards (host-guard.ts) already do this when migrate dies; this is for what
 * they could not do (a guard killed too, a host rebooted, a run that died after the restore
 * began, when only the target may run the workload and the source copy stays stopped):
 *
 *   runc.conf   still holding migrate's override → the previous file, on each host
 *   the copy    stopped on the source: if its twin runs on the target, the target's is the live
 *               one and the source's stopped copy is ended; otherwise the twin is removed and
 *               the source copy resumed
 *   leftovers   the twin that never ran, Docker's `migrate` checkpoint, the image directories
 *
 * It takes the container's lock first, so it never touches a migration in progress.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { TWIN_LABEL, inspectContainer, type ContainerInfo } from '../docker/container.js';
import { ignoreEvents, type EventSink } from '../events.js';
import { hostScript } from '../host-scripts/index.js';
import { lockHost, lockInPrivateDir, workloadLockPath } from '../host-lock.js';
import { describeTree, procStat, signalAll } from '../process/tree.js';
import { MARKER, RUNC_CONF, RUNC_CONF_BACKUP, RUNC_CONF_LOCK } from '../runc/runc-conf.js';
import { CHECKPOINT } from './docker-workload.js';
import { defaultWorkRoot } from './options.js';
import type { RunsOn } from './report.js';

export interface RecoverOptions {
  source: Transport;
  target: Transport;
  container: string;
  workRoot?: string;
  onEvent?: EventSink;
}

export interface RecoverReport {
  container: string;
  /** What it did, in order ("put runc.conf back on root@10.231.0.2", ...); empty when nothing was left. */
  actions: string[];
  runs_on: RunsOn;
}

export async function recoverContainer(o: RecoverOptions): Promise<RecoverReport> {
  const emit = o.onEvent ?? ignoreEvents;
  const { source, target } = o;
  const c = await inspectContainer(source, o.container);
  const report: RecoverReport = { container: c.name, actions: [], runs_on: 'source' };
  const lock = await lockInPrivateDir(source, workloadLockPath(`container-${c.id.slice(0, 12)}`), `container ${c.name}`);
  try {
    for (const h of [source, target]) {
      emit({ kind: 'step', step: 'recover', host: h.name, detail: 'runc.conf' });
      if (await restoreRuncConf(h)) report.actions.push(`put runc.conf back on ${h.name}`);
    }
    emit({ kind: 'step', step: 'recover', host: target.name, detail: `container ${c.name}` });
    report.runs_on = await settleCopies(source, target, c, report.actions);
    await removeLeftovers(o, c, report.actions);
    return report;
  } finally {
    await lock.release();
  }
}

/** runc.conf still holding an override of a dead run: the previous file back, under its lock. */
async function restoreRuncConf(h: Transport): Promise<boolean> {
  await h.exec(['mkdir', '-p', RUNC_CONF_LOCK]);
  const lock = await lockHost(h, RUNC_CONF_LOCK, RUNC_CONF, 60);
  try {
    return (await h.exec(hostScript('restore-stale-runc-conf', RUNC_CONF, RUNC_CONF_BACKUP, MARKER))).stdout.includes('restored');
  } finally {
    await lock.release();
  }
}

/** The twin on the target (by its label), if any: its name and state. */
async function findTwin(target: Transport, sourceId: string): Promise<{ id: string; state: string } | undefined> {
  const r = await target.exec(['docker', 'ps', '-a', '--filter', `label=${TWIN_LABEL}=${sourceId}`, '--format', '{{.ID}} {{.State}}']);
  const [line] = r.stdout.trim().split('\n').filter(Boolean);
  if (!line) return undefined;
  const [id = '', state = ''] = line.split(' ');
  return { id, state };
}

/** Exactly one copy runs afterwards: the target's if it runs, else the source's. */
async function settleCopies(source: Transport, target: Transport, c: ContainerInfo, actions: string[]): Promise<RunsOn> {
  const twin = await findTwin(target, c.id);
  const pids = c.raw.State.Pid > 0 ? (await describeTree(source, c.raw.State.Pid)).pids : [];
  const stopped = pids.length > 0 && (await procStat(source, pids[0]!))?.state === 'T';
  if (twin?.state === 'running') {
    if (c.running && !stopped) {
      throw new MigrateError('PREFLIGHT', `container ${c.name} runs on both hosts (its twin ${twin.id} on ${target.name})`, {
        host: source.name, hint: 'decide which copy to keep and docker rm -f the other; recover will not choose for you',
      });
    }
    if (stopped) {
      await source.exec(['docker', 'rm', '-f', c.id]);
      actions.push(`ended the stopped copy on ${source.name}: the twin runs on ${target.name}`);
    }
    return 'target';
  }
  if (twin) {
    await target.exec(['docker', 'rm', '-f', '-v', twin.id]);
    actions.push(`removed the twin (${twin.state}) from ${target.name}`);
  }
  if (stopped) {
    await signalAll(source, 'CONT', pids);
    actions.push(`resumed the stopped container on ${source.name}`);
  }
  return c.raw.State.Running ? 'source' : 'none';
}

/** Docker's checkpoint of the run and the image directories on both hosts. */
async function removeLeftovers(o: RecoverOptions, c: ContainerInfo, actions: string[]): Promise<void> {
  const rm = await o.source.exec(['docker', 'checkpoint', 'rm', c.id, CHECKPOINT], { allowFailure: true });
  if (rm.exitCode === 0) actions.push(`removed Docker's checkpoint "${CHECKPOINT}" on ${o.source.name}`);
  const root = o.workRoot ?? defaultWorkRoot();
  const prefix = c.id.slice(0, 12);
  for (const h of [o.source, o.target]) {
    const found = await h.exec(['find', root, '-mindepth', '1', '-maxdepth', '1', '-type', 'd', '-name', `${prefix}-*`], { allowFailure: true });
    await h.exec(hostScript('remove-stale-dirs', root, prefix));
    const gone = found.stdout.split('\n').filter((d) => new RegExp(`/${prefix}-\\d+$`).test(d));
    for (const d of gone) actions.push(`removed ${d} on ${h.name}`);
  }
}
