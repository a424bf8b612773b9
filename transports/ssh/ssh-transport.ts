/**
 * The SSH transport: one ssh2 connection per host, reused for every command, stream and port
 * forward. Remote commands travel as one quoted string (transports/quote.ts). A remote exit code
 * arrives as an `exit` event, not as a stream error, so it is turned into the same
 * COMMAND_FAILED error the local transport raises.
 */
import { PassThrough, type Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { MigrateError } from '../errors.js';
import { commandFailed, tailText } from '../command-error.js';
import { transportScript } from '../host-scripts/index.js';
import { quoteCommand } from '../quote.js';
import type { ExecOptions, ExecResult, Forward, ReverseForward, RunningCommand, Transport } from '../transport.js';
import { connectSsh, type Warn } from './connect.js';
import { Forwarding } from './forwarding.js';
import { primeThrough } from './prime.js';
import { HostKeyPin } from './host-key-pin.js';
import { destinationName, resolveDestination, type Destination, type SshOptions } from './destination.js';

/** What host-scripts/exec-reporting-pid.sh prints before the PID of the command it runs. */
export const PID_TAG = 'migrate-remote-pid=';
/** How long close() waits for the host to acknowledge the end of the connection. */
const CLOSE_WAIT_MS = 5_000;


export class SshTransport implements Transport {
  readonly isLocal = false;
  readonly name: string;
  readonly destination: Destination;
  readonly networkHost: string;
  private client?: Promise<Client>;
  private broken?: Error;
  /** Connections whose socket has closed: close() must not wait for a 'close' already past. */
  private readonly closed = new WeakSet<Client>();
  private readonly forwarding: Forwarding;
  /** The host's first accepted key: a reconnect meeting another is refused. */
  private readonly hostKey = new HostKeyPin();

  constructor(url: string, private readonly options: SshOptions = {}, private readonly warn: Warn = () => {}) {
    this.destination = resolveDestination(url, options);
    this.name = destinationName(this.destination);
    this.networkHost = this.destination.host;
    this.forwarding = new Forwarding(() => this.conn(), this.name, warn,
      () => this.exec(['sshd', '-T'], { allowFailure: true, timeoutMs: 10_000 }).then((r) => (r.exitCode === 0 ? r.stdout : undefined), () => undefined));
  }

  /** Connects now (otherwise the first command connects). */
  async connect(): Promise<void> {
    await this.conn();
  }

  /**
   * The connection, opened on first use. A lost connection fails whatever ran on it
   * (SSH_CHANNEL); the next call connects again, so cleanup after a network blip still works.
   */
  private conn(): Promise<Client> {
    if (this.broken) {
      this.warn(`SSH connection to ${this.name} was lost (${this.broken.message}); connecting again`);
      this.broken = undefined;
      this.client = undefined;
      this.forwarding.reset(); // reverse forwards died with the old connection
    }
    if (this.client) return this.client;
    const client: Promise<Client> = connectSsh(this.destination, this.options, this.warn, this.hostKey).then((c) => {
      const mine = () => this.client === client;
      // 'end' (the host closed its side) comes before 'close': from then on nothing can be sent.
      c.on('end', () => {
        if (mine()) this.broken ??= new Error('connection closed by the host');
      });
      c.on('close', () => {
        this.closed.add(c);
        if (mine()) this.broken ??= new Error('connection closed');
      });
      c.on('error', (e) => {
        if (mine()) this.broken = e;
      });
      c.on('tcp connection', this.forwarding.onReverseConnection);
      return c;
    });
    this.client = client;
    client.catch(() => {
      if (this.client === client) this.client = undefined; // a later call may try again
    });
    return client;
  }

  private lostError(cause: Error, command?: string): MigrateError {
    return new MigrateError('SSH_CHANNEL', `SSH connection lost (${cause.message})`, {
      host: this.name,
      command,
      hint: 'check the network and the remote sshd; the command may or may not have finished there',
      cause,
    });
  }

  /**
   * Opens an exec channel. The exit listener is attached inside ssh2's callback: for a quick
   * command one TCP read can carry the open confirmation, the output, `exit-status` and `close`,
   * and ssh2 emits them synchronously, before any awaiting code would run.
   */
  private async channel(argv: readonly string[], env?: Record<string, string>): Promise<{ ch: ClientChannel; cmd: string; exited: Promise<{ exitCode: number; signal?: string }> }> {
    const cmd = quoteCommand(argv, env);
    for (let attempt = 1; ; attempt++) {
      const pending = this.conn();
      const client = await pending;
      try {
        return await new Promise((resolve, reject) => {
          client.exec(cmd, (err, ch) => {
            if (err) return reject(this.lostError(err, cmd));
            const exited = this.waitExit(ch, cmd);
            exited.catch(() => {});
            resolve({ ch, cmd, exited });
          });
        });
      } catch (e) {
        // ssh2 throws 'Not connected' before sending anything when the socket has already
        // ended (the host closed it and the 'close' event has not come yet): the command did
        // not start, so one more connection may run it.
        if (e instanceof MigrateError || attempt > 1) throw e instanceof MigrateError ? e : this.lostError(e as Error, cmd);
        if (this.client === pending) this.broken ??= e as Error;
      }
    }
  }

  /** Resolves with the exit status once the channel closes (exit + all output consumed). */
  private waitExit(ch: ClientChannel, cmd: string): Promise<{ exitCode: number; signal?: string }> {
    return new Promise((resolve, reject) => {
      let exitCode: number | undefined;
      let signal: string | undefined;
      ch.on('exit', (code: number | null, sig?: string) => {
        exitCode = code ?? -1;
        signal = sig ? (sig.startsWith('SIG') ? sig : `SIG${sig}`) : undefined;
      });
      ch.on('close', () => {
        if (exitCode === undefined) reject(this.lostError(this.broken ?? new Error('channel closed without an exit status'), cmd));
        else resolve({ exitCode, signal });
      });
    });
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    // A timeout is enforced on the remote side by coreutils' timeout(1): closing an SSH
    // channel does not stop the command there.
    const timeoutS = options.timeoutMs === undefined ? undefined : Math.max(1, Math.ceil(options.timeoutMs / 1000));
    const remoteArgv = options.outlive ? transportScript('run-to-end', ...argv)
      : timeoutS === undefined ? argv : ['timeout', '-s', 'KILL', String(timeoutS), ...argv];
    const { ch, cmd, exited } = await this.channel(remoteArgv, options.env);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    ch.on('data', (b: Buffer) => out.push(b));
    ch.stderr.on('data', (b: Buffer) => err.push(b));
    ch.end(options.input ?? undefined);
    const status = await exited;
    const timedOut = timeoutS !== undefined && status.exitCode === 137;
    const result: ExecResult = {
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: tailText(Buffer.concat(err).toString('utf8')),
      ...status,
      ...(timedOut ? { signal: 'SIGKILL' } : {}),
    };
    if (status.exitCode === 127 && !options.allowFailure && /command not found|No such file/.test(result.stderr)) {
      throw new MigrateError('COMMAND_NOT_FOUND', `${argv[0]} is not installed`, {
        host: this.name,
        command: cmd,
        stderr: result.stderr,
        hint: `install ${argv[0]} on ${this.destination.host}`,
      });
    }
    if ((status.exitCode !== 0 || status.signal) && !options.allowFailure) {
      throw commandFailed(this.name, argv, options.env, result, timedOut ? options.timeoutMs : undefined);
    }
    return result;
  }

  /**
   * Streams a remote command. SSH has no reliable way to kill a remote process (sshd ignores
   * `signal` requests in many configurations, and closing the channel does not hang up a
   * command without a tty), so the command is started through a shell that reports its PID on
   * stderr before exec'ing it (exec-reporting-pid.sh); kill() then kills that PID's process group.
   */
  spawn(argv: readonly string[], options: { env?: Record<string, string> } = {}): RunningCommand {
    // Large buffers: every write into an ssh2 channel has a fixed cost.
    const stdin = new PassThrough({ highWaterMark: 1 << 20 });
    const stdout = new PassThrough({ highWaterMark: 1 << 20 });
    let channel: ClientChannel | undefined;
    let killed = false;
    let remotePid: number | undefined;
    const wrapped = transportScript('exec-reporting-pid', ...argv);
    let finished = false;
    const killRemote = () => {
      // Never after it exited: the PID may belong to another process by then.
      if (finished) return;
      // Its whole process group (sshd starts each channel's command in a session of its own): a
      // script's children would otherwise live on and hold the channel open.
      if (remotePid !== undefined) void this.exec(transportScript('kill-group', String(remotePid)), { allowFailure: true }).catch(() => {});
      channel?.close();
    };
    const done = (async () => {
      const { ch, exited } = await this.channel(wrapped, options.env);
      channel = ch;
      let stderr = '';
      ch.stderr.on('data', (b: Buffer) => {
        stderr = tailText(stderr + b.toString('utf8'));
        if (remotePid === undefined) {
          const m = new RegExp(`^${PID_TAG}(\\d+)\\n`).exec(stderr);
          if (m) {
            remotePid = Number(m[1]);
            stderr = stderr.slice(m[0].length);
            if (killed) killRemote();
          }
        }
      });
      ch.pipe(stdout); // ssh2's channel applies backpressure through the SSH window
      stdin.pipe(ch);
      const status = await exited.finally(() => (finished = true));
      if (status.exitCode !== 0 || status.signal) {
        throw commandFailed(this.name, argv, options.env, { ...status, stderr, stdout: '' });
      }
      return { exitCode: status.exitCode, stderr };
    })();
    done.catch((e) => {
      stdout.destroy(e);
    });
    return {
      stdin,
      stdout,
      done,
      kill: () => {
        killed = true;
        killRemote();
      },
      // The remote command goes on when its channel closes (with the connection, at close()).
      letGo: () => {
        stdin.end();
        stdout.resume();
      },
    };
  }

  /** Pays sshd's first-megabytes cost on this connection now, not inside a freeze (prime.ts). */
  prime(): Promise<void> {
    return primeThrough(this.spawn(['sh', '-c', 'cat > /dev/null']));
  }

  openStream(port: number, host = '127.0.0.1'): Promise<Duplex> {
    return this.forwarding.openStream(port, host);
  }

  forward(port: number, host = '127.0.0.1'): Promise<Forward> {
    return this.forwarding.forward(port, host);
  }

  reverseForward(remotePort: number, port: number, host = '127.0.0.1'): Promise<ReverseForward> {
    return this.forwarding.reverseForward(remotePort, port, host);
  }

  reverseStream(remotePort: number, onStream: (stream: Duplex) => void): Promise<ReverseForward> {
    return this.forwarding.reverseStream(remotePort, onStream);
  }

  async close(): Promise<void> {
    const pending = this.client;
    this.client = undefined;
    if (!pending) return;
    const client = await pending.catch(() => undefined);
    if (!client || this.closed.has(client)) return;
    await new Promise<void>((resolve) => {
      // A host that stopped answering never acknowledges the end: drop the socket then.
      const drop = setTimeout(() => client.destroy(), CLOSE_WAIT_MS);
      client.once('close', () => {
        clearTimeout(drop);
        resolve();
      });
      client.end();
    });
  }
}
