/**
 * A dead man's switch on the source host. Between the dump and the start of the restore on the
 * target, the workload exists only as stopped processes on the source. If migrate itself dies
 * in that window (killed, host crash, lost SSH connection to the source), nobody would resume
 * them; this guard does. It is a shell on the source (host-scripts/source-guard.sh) reading
 * commands from migrate:
 *
 *   arm PID...   the workload is stopped: resume these PIDs if migrate goes away
 *   disarm       the restore on the target is about to start: from now on, never resume
 *   done         exit quietly
 *
 * migrate going away closes the guard's stdin (the pipe of a dead local process, or the SSH
 * channel of a dead connection); an armed guard then sends SIGCONT. Each command is
 * acknowledged, so migrate only starts the restore once the guard has surely disarmed; if the
 * guard is gone by then, the source may already run again, so migrate must not restore.
 */
import type { Transport, RunningCommand } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';

export class SourceGuard {
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  private gone = false;

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

  static async start(t: Transport): Promise<SourceGuard> {
    const g = new SourceGuard(t.spawn(hostScript('source-guard')), t.name);
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
        throw new MigrateError('SSH_CHANNEL', 'the guard on the source is gone (connection to the source lost?)', {
          host: this.host,
          hint: 'the workload may have been resumed on the source by its guard; check where it runs',
        });
      }
      if (line === undefined) await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private async send(line: string, ack: string): Promise<void> {
    if (!this.gone) this.cmd.stdin.write(`${line}\n`);
    await this.expect(ack);
  }

  /** The workload is stopped as `pids`: resume them if migrate goes away. */
  arm(pids: number[]): Promise<void> {
    return this.send(`arm ${pids.join(' ')}`, 'armed');
  }

  /** Before the restore on the target: never resume from now on. Fails if the guard is gone. */
  disarm(): Promise<void> {
    return this.send('disarm', 'disarmed');
  }

  /** Ends the guard without resuming anything. */
  async release(): Promise<void> {
    if (!this.gone) this.cmd.stdin.end('done\n');
    await this.cmd.done.catch(() => {});
  }
}
