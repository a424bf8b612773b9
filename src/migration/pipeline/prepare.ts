/**
 * Everything before the freeze, for every strategy: the target prepared (a Docker twin), the
 * checkpoint directories on both hosts, the workload's files copied whole while it runs, and
 * pre-copy's rounds where the plan has them (with the chain's `parent` link on the target).
 * Nothing here stops the workload; a failure undoes what was prepared and the run ends.
 */
import { installPageCredential, newPageCredential } from '../../criu/page-tls.js';
import type { Transport } from '../../../transports/transport.js';
import { throwIfAborted } from '../../../transports/errors.js';
import { hostScript } from '../../host-scripts/index.js';
import type { HostGuard } from '../host-guard.js';
import { recordFilesystem } from '../report.js';
import { preCopyRounds } from '../precopy.js';
import type { Dirs } from '../workload.js';
import { step, type MoveContext } from './context.js';
import { choosePageRoutes, type PageRoutes } from './page-channel.js';

export async function makeDirs(t: Transport, d: Dirs): Promise<void> {
  await t.exec(hostScript('make-dirs', d.root, d.images, d.work, d.link));
}

/**
 * Checkpoint directories `<workRoot>/<runPrefix>-*` on both hosts: left by an earlier run of the
 * same workload that died (they hold a memory image). Only called under the workload's lock.
 */
export async function removeStaleDirs(c: Pick<MoveContext, 'source' | 'target' | 'workRoot' | 'runPrefix'>): Promise<void> {
  await Promise.all([c.source, c.target].map((t) => t.exec(hostScript('remove-stale-dirs', c.workRoot, c.runPrefix))));
}

/** Removes the run's directory on one host (never fails: used on the way out). */
export const removeDirs = (t: Transport, d: Dirs): Promise<unknown> => t.exec(['rm', '-rf', d.root], { allowFailure: true });

export interface Prepared {
  /** The last pre-copy round's directory (relative to the images directory), if any. */
  parent?: string;
  /** The page channels that go straight between the hosts. */
  routes: PageRoutes;
}

export async function prepare(c: MoveContext, dirs: Dirs, targetGuard: HostGuard): Promise<Prepared> {
  const { source, target, workload, report } = c;
  const started = Date.now();
  step(c, 'create', target, workload.label);
  // The link gets its one-time costs over with while the target is prepared (SshTransport.prime).
  await Promise.all([workload.prepareTarget().then(() => workload.guardTarget(targetGuard)), target.prime()]);
  await Promise.all([makeDirs(source, dirs), makeDirs(target, dirs)]);
  // The run's page channel credential, on both hosts before any page server starts; the way
  // its channels will go (a probe of the direct routes runs a CRIU on each host meanwhile).
  const [routes] = await Promise.all([choosePageRoutes(c, dirs), newPageCredential().then((cred) => installPageCredential([source, target], dirs.tls, cred))]);
  throwIfAborted(c.signal);
  step(c, 'files', target, 'copying its files while it runs');
  recordFilesystem(report, 'before_freeze', await workload.copyFilesBeforeFreeze());
  throwIfAborted(c.signal);
  report.phases_ms.create = Date.now() - started - (report.phases_ms.filesystem_before_freeze ?? 0);
  if (!c.plan.rounds) return { routes };
  step(c, 'precopy', source, 'pre-dumping memory while it runs');
  const rounds = Date.now();
  const parent = await preCopyRounds(c, dirs);
  report.phases_ms.precopy = Date.now() - rounds;
  // The chain, as CRIU makes it on the source; a page server asks for it before it takes pages.
  await target.exec(['ln', '-sfn', parent, `${dirs.images}/parent`]);
  return { parent, routes };
}

/** While frozen: what changed since the first copy. Settles (never rejects unobserved) even if nobody awaits it yet. */
export function copyFilesWhileFrozen(c: Pick<MoveContext, 'workload' | 'report'>): Promise<void> {
  const p = c.workload.copyFilesWhileFrozen().then((pass) => recordFilesystem(c.report, 'frozen', pass));
  p.catch(() => {});
  return p;
}
