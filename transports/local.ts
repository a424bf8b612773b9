/** The local transport: commands run on the controller's machine through execa. */
import { execa, type ResultPromise } from 'execa';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';
import { PassThrough, type Duplex } from 'node:stream';
import { MigrateError } from './errors.js';
import { listenOnLoopback } from './listen.js';
import { quoteCommand } from './quote.js';
import { commandFailed, tailText } from './command-error.js';
import type { ExecOptions, ExecResult, Forward, ReverseForward, RunningCommand, Transport } from './transport.js';
import { transportScript } from './host-scripts/index.js';

/** How long kill() waits after SIGTERM before it sends SIGKILL to the command's process group. */
const KILL_GRACE_MS = 1000;

export class LocalTransport implements Transport {
  readonly name = 'local';
  readonly isLocal = true;

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (!argv[0]) throw new TypeError('exec needs a command');
    const [file = argv[0], ...args] = options.outlive ? transportScript('run-to-end', ...argv) : argv;
    const result = await execa(file, args, {
      input: options.input,
      env: options.env,
      timeout: options.timeoutMs,
      reject: false,
      stripFinalNewline: false,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
      detached: true, // out of the terminal's process group: Ctrl-C reaches migrate only, which then decides
    });
    const notFound = result.exitCode === 127 && options.outlive && /not found|No such file/.test(String(result.stderr ?? ''));
    if ((result.failed && (result as { code?: string }).code === 'ENOENT') || notFound) {
      throw new MigrateError('COMMAND_NOT_FOUND', `${argv[0]} is not installed`, {
        host: this.name,
        command: quoteCommand(argv),
        hint: `install ${argv[0]} on this machine (npm run lab:up provisions the lab)`,
      });
    }
    const out: ExecResult = {
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      exitCode: result.exitCode ?? -1,
      signal: result.signal ?? undefined,
    };
    if (result.timedOut) out.signal ??= 'SIGTERM';
    if ((out.exitCode !== 0 || out.signal) && !options.allowFailure) {
      throw commandFailed(this.name, argv, options.env, out, result.timedOut ? options.timeoutMs : undefined);
    }
    return out;
  }

  spawn(argv: readonly string[], options: { env?: Record<string, string> } = {}): RunningCommand {
    const [file, ...args] = argv;
    if (!file) throw new TypeError('spawn needs a command');
    const child: ResultPromise = execa(file, args, {
      env: options.env,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: { stdout: false, stderr: true },
      reject: false,
      maxBuffer: { stderr: 1024 * 1024 },
      detached: true,
    });
    const stdout = new PassThrough();
    child.stdout!.pipe(stdout);
    const done = child.then((result) => {
      const stderr = tailText(String(result.stderr ?? ''));
      const exitCode = result.exitCode ?? -1;
      if (exitCode !== 0 || result.signal) {
        throw commandFailed(this.name, argv, options.env, { exitCode, signal: result.signal ?? undefined, stderr, stdout: '' });
      }
      return { exitCode, stderr };
    });
    done.catch(() => {}); // the caller handles it; never an unhandled rejection
    // detached: the command leads its own process group, so kill() ends its children too (a
    // script's tar or zstd left running would hold its pipes, and this process, open). SIGTERM
    // lets a script clean up; SIGKILL follows, because a bash child that is still opening a FIFO
    // for its redirect (wait_for_partner) takes SIGTERM into bash's own handler and stays blocked:
    // seen as an orphan of a killed stream-digest script under load.
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        child.kill(signal);
      }
    };
    const kill = () => {
      signalGroup('SIGTERM');
      setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS).unref();
    };
    const letGo = () => {
      child.stdin?.end();
      for (const s of [child.stdout, child.stderr]) s?.destroy();
      child.unref(); // detached: it leads its own process group and survives this process
    };
    return { stdin: child.stdin!, stdout, done, kill, letGo };
  }

  /** Nothing to ready: no link. */
  async prime(): Promise<void> {}

  async openStream(port: number, host = '127.0.0.1'): Promise<Duplex> {
    const sock = connect(port, host);
    sock.setNoDelay(true);
    try {
      await once(sock, 'connect');
    } catch (e) {
      throw new MigrateError('FORWARD_FAILED', `cannot connect to ${host}:${port}`, { host: this.name, cause: e });
    }
    return sock;
  }

  async forward(port: number, host = '127.0.0.1'): Promise<Forward> {
    return { localHost: host, localPort: port, close: async () => {} };
  }

  async reverseForward(remotePort: number, port: number, host = '127.0.0.1'): Promise<ReverseForward> {
    if (remotePort !== port) {
      throw new MigrateError('FORWARD_FAILED', `a local transport cannot move port ${port} to ${remotePort}`, { host: this.name });
    }
    return { remoteHost: host, remotePort, close: async () => {} };
  }

  /** A loopback listener here, each connection handed over as its socket. */
  async reverseStream(remotePort: number, onStream: (stream: Duplex) => void): Promise<ReverseForward> {
    const server = createServer({ noDelay: true }, onStream);
    const bound = await listenOnLoopback(server, remotePort, `cannot listen on 127.0.0.1:${remotePort}`, this.name);
    // close() stops the listening only: the connections handed over are the handler's (as a reverse forward's channels outlive it).
    return { remoteHost: '127.0.0.1', remotePort: bound, close: async () => void server.close() };
  }

  async close(): Promise<void> {}
}
