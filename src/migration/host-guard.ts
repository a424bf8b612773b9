/**
 * A dead man's switch on each host of a run (host-scripts/host-guard.sh). While migrate works,
 * it tells each host's guard what to put back should migrate go away: the source's stopped
 * workload (resumed once CRIU has let go of it), runc.conf's override, the target's twin that
 * never ran, the run's directories. migrate going away — any signal, SIGKILL included, or a lost
 * connection — closes the guard's stdin, and the guard puts it all back on its own.
 *
 * Each command is acknowledged, so migrate only starts the restore once the source's guard has
 * surely disarmed; if the guard is gone by then, the source may already run again, so migrate
 * must not restore.
 *
 * A lazy restore (post-copy) is different: the target's copy needs the source's memory, which
 * travels through migrate, so until its window closed the source stays the one that counts. The
 * source's guard stays armed (and hangs up on the lazy page server, so its CRIU lets go), the
 * target's kills the incomplete copy; both are disarmed once the last page arrived, the source's
 * first (had migrate died between the two, no copy would run, rather than two).
 *
 * Each guard holds a shared lock (`guardLockPath`) until it is done; `migrate recover` takes it
 * exclusively, so it never settles a workload while a guard still puts it back.
 */
import type { Transport, RunningCommand } from '../../transports/transport.js';
import type { Endpoint } from '../transfer/page-relay.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';
import { LOCK_DIR, workloadLockPath } from '../host-lock.js';
import { requirePrivateDir } from '../private-dir.js';
import { MARKER, RUNC_CONF, RUNC_CONF_BACKUP, RUNC_CONF_LOCK } from '../runc/runc-conf.js';

/** How long a guard waits for a CRIU dump in flight to let go of the workload before it resumes it. */
export const GUARD_WAIT_S = 600;

/** The lock a workload's guards hold while they live (`runPrefix`: the workload's, as its directories are named). */
export const guardLockPath = (runPrefix: string): string => workloadLockPath(`guard-${runPrefix}`);

/** The target's copy, for a guard to kill: a Docker twin (by ID), or the tree whose root's PID CRIU or runc writes to a file. */
export type TargetCopy = { twin: string } | { pidfile: string };

/** `resume-copy`/`go` with the copy's root PID when the caller knows it (the guard finds it itself otherwise). */
const withPid = (command: string, pid?: number): string => (pid && Number.isInteger(pid) && pid > 0 ? `${command} ${pid}` : command);

export class HostGuard {
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  private gone = false;
  private abandoned = false;

  private constructor(private readonly cmd: RunningCommand, private readonly host: string) {
    let buf = '';
    cmd.stdout.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      this.wake();
    });
    void cmd.done.catch(() => {}).finally(() => {
      this.gone = true;
      this.wake();
    });
  }

  static async start(t: Transport, lockPath: string, waitS = GUARD_WAIT_S): Promise<HostGuard> {
    await requirePrivateDir(t, LOCK_DIR, 'the lock directory', { exactMode: 0o700 });
    // The guard lifts CRIU's network lock before it resumes a workload (unlock-network.sh's program).
    const unlock = hostScript('unlock-network')[2]!;
    const g = new HostGuard(t.spawn(hostScript('host-guard', String(waitS), lockPath, unlock)), t.name);
    await g.expect('ready');
    return g;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async expect(word: string): Promise<void> {
    for (;;) {
      const line = this.lines.shift();
      if (line === word) return;
      if (line === undefined && this.gone) {
        throw new MigrateError('SSH_CHANNEL', 'the guard on this host is gone (connection lost?)', {
          host: this.host,
          hint: 'the workload may have been resumed on the source by its guard; check where it runs',
        });
      }
      if (line === undefined) await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private async send(line: string, ack: string): Promise<void> {
    if (/[\n\r]/.test(line)) throw new MigrateError('BAD_INPUT', `a guard command cannot hold a line break: ${JSON.stringify(line)}`);
    if (!this.gone) this.cmd.stdin.write(`${line}\n`);
    await this.expect(ack);
  }

  /** The workload is (about to be) stopped as `pids`: resume them if migrate goes away. */
  arm(pids: number[]): Promise<void> {
    return this.send(`arm ${pids.join(' ')}`, 'armed');
  }

  /** Before the restore on the target: never resume, keep the twin, keep the target's copy. Fails if the guard is gone. */
  disarm(): Promise<void> {
    return this.send('disarm', 'disarmed');
  }

  /** Put runc.conf back should migrate go away with its override in place (other paths: tests). */
  guardRuncConf(conf = RUNC_CONF, backup = RUNC_CONF_BACKUP, lock = RUNC_CONF_LOCK): Promise<void> {
    return this.send(`runc-conf ${conf} ${backup} ${lock} ${MARKER}`, 'noted');
  }

  /** Remove this twin container should migrate go away before it ran. */
  twin(id: string): Promise<void> {
    return this.send(`twin ${id}`, 'noted');
  }

  /** The source's lazy page server (its address and port): hung up on should migrate go away, so its CRIU lets go. */
  lazy(at: Endpoint): Promise<void> {
    if (!/^[0-9.]+$/.test(at.host)) throw new MigrateError('BAD_INPUT', `the guard takes an IPv4 address, not ${at.host}`);
    return this.send(`lazy ${at.port} ${at.host}`, 'noted');
  }

  /** The target's copy runs on memory that is not all there: killed (and removed) should migrate go away before `disarm`. */
  incomplete(copy: TargetCopy): Promise<void> {
    const [how, ref] = 'twin' in copy ? ['twin', copy.twin] : ['pidfile', copy.pidfile];
    if (/\s/.test(ref)) throw new MigrateError('BAD_INPUT', `the guard cannot take a ${how} with spaces: ${ref}`);
    return this.send(`incomplete ${how} ${ref}`, 'noted');
  }

  /**
   * The target's copy, restored stopped (it was `incomplete`), runs now: SIGCONT to its tree. It
   * is still killed should migrate go away (post-copy's window: its memory is not all there).
   */
  resumeCopy(pid?: number): Promise<void> {
    return this.send(withPid('resume-copy', pid), 'resumed');
  }

  /**
   * The commit on the target: the copy, restored stopped, runs now and is forgotten (as `disarm`):
   * from here on only the target runs the workload. Sent beside the source guard's `disarm`.
   */
  go(pid?: number): Promise<void> {
    return this.send(withPid('go', pid), 'resumed');
  }

  /** Remove this directory should migrate go away. */
  remove(dir: string): Promise<void> {
    if (/\s/.test(dir)) throw new MigrateError('BAD_INPUT', `the guard cannot remove a path with spaces: ${dir}`);
    return this.send(`remove ${dir}`, 'noted');
  }

  /**
   * Leaves the guard to put everything back on its own, as if migrate had died: after a step
   * hung past the freeze's deadline, a CRIU may still hold the workload, and only the guard can
   * wait for it to let go.
   */
  abandon(): void {
    if (this.abandoned) return;
    this.abandoned = true;
    this.cmd.letGo();
  }

  /** Ends the guard without putting anything back (unless it was abandoned: then it does its job). */
  async release(): Promise<void> {
    if (this.abandoned) return;
    if (!this.gone) this.cmd.stdin.end('done\n');
    await this.cmd.done.catch(() => {});
  }
}
