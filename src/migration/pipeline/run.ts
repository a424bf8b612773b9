/**
 * One migration run, whatever the workload and the strategy. Read top to bottom, this is what
 * happens:
 *
 *   prepare        the target, both hosts' directories, the files, pre-copy's rounds (prepare.ts)
 *   freeze         the workload stops and is dumped: eager or lazy (plan, auto's convergence)
 *   transfer       while frozen: the images and the files that changed, as verified streams
 *   restore        it runs on the target (the freeze ends here)
 *   window         its memory fills in on the target (lazy restore, post-copy)
 *   finish         the stopped source copy is ended
 *
 * Any failure before the freeze undoes what was prepared and throws; any failure after it goes
 * through the one recovery path (recover.ts). Should the controller itself die (any signal,
 * SIGKILL included, or a lost connection), a guard on each host puts back what it was told
 * (host-guard.ts): the source's guard lets a dump in flight finish, puts runc.conf back and
 * resumes the stopped workload — until the target's copy runs (post-copy: until its window
 * closed); the target's kills the copy a restore made (it is restored stopped and resumed only
 * at the hand-over: handOver) and removes the twin; both remove the run's directories.
 */
import { throwIfAborted } from '../../../transports/errors.js';
import { sendImages, startReceiver } from '../../transfer/send-images.js';
import type { RunningCommand } from '../../../transports/transport.js';
import { progressCounter, type ProgressCounter } from '../../progress.js';
import { converged } from '../precopy-policy.js';
import type { MigrationReport } from '../report.js';
import { HostGuard, guardLockPath } from '../host-guard.js';
import { dirsUnder, type Dirs } from '../workload.js';
import { step, type MoveContext } from './context.js';
import { EagerFreeze } from './eager-freeze.js';
import { FreezeClock, lapTimer } from './freeze-clock.js';
import { Deadline } from './deadline.js';
import type { Freeze } from './freeze.js';
import { LazyFreeze } from './lazy-freeze.js';
import { copyFilesWhileFrozen, prepare, removeDirs, removeStaleDirs, type Prepared } from './prepare.js';
import { clearTarget, recover } from './recover.js';
import { recordRestore } from './window-stats.js';
import { hostClockOffset, type ClockOffset } from '../../host-clock.js';
import { countFromCriuFreeze } from './freeze-start.js';

export async function runPipeline(c: MoveContext): Promise<MigrationReport> {
  // The source's clock, for the freeze's start from CRIU's log (freeze-start.ts): measured while
  // the run prepares, read after the freeze; not for workloads CRIU does not stop (Docker's).
  const sourceClock = c.workload.stoppedByCriu ? hostClockOffset(c.source) : Promise.resolve(undefined);
  await removeStaleDirs(c);
  const dirs = dirsUnder(`${c.workRoot}/${c.runPrefix}-${Date.now()}`);
  const guards = await startGuards(c, dirs);
  try {
    const prepared = await prepare(c, dirs, guards.target).catch(async (e: unknown) => {
      await undoPrepared(c, dirs);
      throw e;
    });
    return await freezeAndMove(c, dirs, chooseFreeze(c, dirs, prepared), guards, sourceClock);
  } finally {
    await Promise.all([guards.source.release(), guards.target.release()]);
  }
}

interface Guards { source: HostGuard; target: HostGuard }

/** A failure before the freeze: nothing was frozen, so what was prepared on both hosts goes. */
async function undoPrepared(c: MoveContext, dirs: Dirs): Promise<void> {
  await Promise.all([clearTarget(c, dirs), removeDirs(c.source, dirs)]);
}

/**
 * Runs the recovery; when the freeze's deadline had passed, a hung command may still hold the
 * workload: the source's guard is left to wait for it and put everything back (host-guard.ts).
 */
async function afterDeadline(deadline: Deadline, guards: Guards, recovery: () => Promise<MigrationReport>): Promise<MigrationReport> {
  deadline.stop();
  try {
    return await recovery();
  } finally {
    if (deadline.passed) guards.source.abandon();
  }
}

/** Both hosts' guards, told from the start to put runc.conf back and remove the run's directory. */
async function startGuards(c: MoveContext, dirs: Dirs): Promise<Guards> {
  const lock = guardLockPath(c.runPrefix);
  const [source, target] = await Promise.all([HostGuard.start(c.source, lock), HostGuard.start(c.target, lock)]);
  await Promise.all([source, target].flatMap((g) => [g.guardRuncConf(), g.remove(dirs.root)]));
  return { source, target };
}

/** Eager or lazy, as the plan says; auto's pre-copy turns lazy (hybrid) when its rounds did not converge. */
function chooseFreeze(c: MoveContext, dirs: Dirs, { parent, routes }: Prepared): Freeze {
  const stop = c.report.precopy?.stop;
  const notConverged = c.plan.lazyWhenNotConverged && stop?.reason && !converged(stop.reason, stop.predicted_freeze_ms, c.policy);
  if (notConverged) {
    c.report.strategy = 'hybrid';
    c.report.strategy_reason = `${c.report.strategy_reason ?? 'auto'}. The rounds did not converge (${stop!.why}): post-copy finished it (hybrid)`;
  }
  return c.plan.freeze === 'lazy' || notConverged ? new LazyFreeze(c, dirs, parent, routes.toSource) : new EagerFreeze(c, dirs, parent, routes.toTarget);
}

async function freezeAndMove(c: MoveContext, dirs: Dirs, freeze: Freeze, guards: Guards, sourceClock: Promise<ClockOffset | undefined>): Promise<MigrationReport> {
  const { source, target, workload, report } = c;
  const phases = report.phases_ms;
  const lap = lapTimer();
  const clock = new FreezeClock();
  const deadline = new Deadline(c.freezeTimeoutMs, source.name, c.signal);
  // The images' receiver on the target starts now and waits: its start-up (~30 ms, a few
  // processes) is not paid while the workload is frozen.
  const receiver = startReceiver(target, dirs.images);
  try {
    await freeze.open();
    phases.create += lap();
    throwIfAborted(c.signal);
    await guards.source.arm(await workload.stoppedPids()); // from here on migrate's death resumes the workload
    step(c, 'checkpoint', source, freeze.detail);
    clock.enter();
    deadline.start();
    await c.faults?.afterFreeze?.();
    // A lazy dump's page server waits for the target's daemon for good: the source's guard learns
    // its port before it listens, so migrate's death at any point after leaves nothing waiting.
    await deadline.race(`the checkpoint of ${workload.label}`, freeze.dump(clock.stopping, (at) => guards.source.lazy(at), (why) => deadline.cut(why)));
  } catch (err) {
    receiver.kill();
    const e = await freeze.failedDump(err, clock.entered);
    if (!clock.entered) {
      await undoPrepared(c, dirs);
      throw e;
    }
    return afterDeadline(deadline, guards, () => recover(c, dirs, clock, e));
  }
  return moveFrozen({ c, dirs, freeze, guards, clock, deadline, lap, sourceClock, receiver });
}

interface Frozen {
  c: MoveContext; dirs: Dirs; freeze: Freeze; guards: Guards; clock: FreezeClock; deadline: Deadline; lap: () => number;
  sourceClock: Promise<ClockOffset | undefined>;
  /** The images' receiver, started on the target before the freeze. */
  receiver: RunningCommand;
}

/** Dumped and stopped on the source: the images travel, it is restored on the target, its memory fills in. */
async function moveFrozen({ c, dirs, freeze, guards, clock, deadline, lap, sourceClock, receiver }: Frozen): Promise<MigrationReport> {
  const { source, target, workload, report } = c;
  const phases = report.phases_ms;
  const files = copyFilesWhileFrozen(c); // what changed since the first copy, beside the images
  let restoreBegan = false;
  let daemon: Promise<void> | undefined;
  try {
    const { pageBytes, exclude } = await deadline.race('collecting the dump', freeze.collect());
    phases.checkpoint = lap();
    throwIfAborted(c.signal);

    step(c, 'transfer', target);
    let progress: ProgressCounter | undefined;
    const onProgress = { total: (total?: number) => (progress = progressCounter(c.emit, 'transfer', { host: target.name, total })), add: (n: number) => progress?.add(n) };
    const sent = await deadline.race('sending the images', sendImages(source, dirs.images, target, dirs.images, {
      level: c.zstdLevel, tamper: c.faults?.tamper, signal: deadline.signal, exclude, onProgress, receiver,
    }));
    progress?.end();
    report.bytes.raw += sent.rawBytes + pageBytes; // after pre-copy's rounds, if any
    report.bytes.wire += sent.wireBytes + pageBytes;
    await deadline.race('copying the files that changed', files);
    phases.transfer = lap();
    throwIfAborted(c.signal);

    await c.faults?.beforeRestore?.();
    // The memory daemon starts while the workload readies its restore (Docker: descriptors.json
    // and runc.conf on the target); the restore command waits for both.
    daemon = deadline.race('starting the memory daemon', freeze.beforeRestore());
    daemon.catch(() => {}); // awaited in `starting`, or below should the restore fail before
    const started = daemon;
    const starting = async () => {
      await Promise.all([started, guardRestore(c, dirs, freeze, guards)]);
      restoreBegan = true;
      step(c, 'restore', target, freeze.lazyRestore ? 'memory fills in after it resumed' : undefined);
    };
    const restored = async (pid?: number) => {
      await handOver(freeze, guards, pid);
      clock.resumed();
    };
    report.workload.target = await deadline.race(`the restore of ${workload.label}`, workload.restoreOnTarget(dirs, freeze.lazyRestore, { starting, restored }));
    deadline.stop();
    report.freeze_ms = clock.frozenMs();
    phases.restore = lap();
    const restoredAt = Date.now();
    await resetSourceConnections(c);

    await c.faults?.duringFill?.();
    await freeze.window(restoredAt);
    // Its memory is all on the target: from here on only the target may run it (both at once:
    // migrate's death between two sequential messages would leave neither copy to run).
    await Promise.all([guards.source.disarm(), guards.target.disarm()]);
    await Promise.all([recordRestore(report, target, dirs.work), countFromCriuFreeze(c, dirs.work, clock, sourceClock)]);
  } catch (err) {
    deadline.stop();
    receiver.kill(); // not yet used (never after it exited)
    await daemon?.catch(() => {}); // a daemon still starting is stopped with the rest
    await freeze.abort();
    await files.catch(() => {}); // let a copy in flight end before the target is cleared
    return afterDeadline(deadline, guards, () => recover(c, dirs, clock, err, restoreBegan));
  }
  return finish(c, dirs);
}

/**
 * Right before the restore: the target's guard learns what the restore will make, to kill it
 * should migrate die; the source's guard still resumes the source copy then (and hangs up on a
 * lazy dump's page server). The restore leaves its copy stopped (CRIU's leave-stopped), so whenever
 * migrate dies during it, the source copy resumes and the target's, which never ran, is killed.
 */
async function guardRestore(c: MoveContext, dirs: Dirs, freeze: Freeze, guards: Guards): Promise<void> {
  const at = freeze.serving();
  await Promise.all([at && guards.source.lazy(at), guards.target.incomplete(c.workload.targetCopy(dirs))]);
}

/**
 * The restore returned; both copies are stopped (`pid`: the copy's root, when the workload knew
 * it). An eager freeze's copy is whole: the source's
 * guard is disarmed and the target's resumes the copy and forgets it, both at once (should
 * migrate die between the two, the one window left: neither or both copies would run — two
 * messages on open connections, written together). A lazy freeze's copy needs the source until
 * its window closed: it resumes, and the guards stay as they are until then.
 */
async function handOver(freeze: Freeze, guards: Guards, pid?: number): Promise<void> {
  if (freeze.serving() === undefined) await Promise.all([guards.source.disarm(), guards.target.go(pid)]);
  else await guards.target.resumeCopy(pid);
}

/**
 * `--tcp close`: the source copy's clients are told now (a reset) rather than when the copy ends,
 * after post-copy's window. A failure only costs them their own timeout: a warning.
 */
async function resetSourceConnections(c: MoveContext): Promise<void> {
  if (c.report.tcp.policy !== 'close') return;
  try {
    const reset = await c.workload.resetSourceConnections?.();
    if (reset !== undefined) c.report.tcp.reset_on_source = reset;
  } catch (e) {
    c.emit({ kind: 'warning', host: c.source.name, message: `${e instanceof Error ? e.message : String(e)}: its clients wait out their own timeout before they reconnect` });
  }
}

/** It runs on the target with all its memory: the stopped source copy is ended. */
async function finish(c: MoveContext, dirs: Dirs): Promise<MigrationReport> {
  const { source, target, workload, report } = c;
  report.outcome = 'migrated';
  report.runs_on = 'target';
  step(c, 'finish', source, c.keepSource ? `keeping the exited ${workload.label}` : `removing ${workload.label} from the source`);
  await workload.finishSource(c.keepSource ?? false);
  await Promise.all([removeDirs(source, dirs), removeDirs(target, dirs)]);
  return report;
}
