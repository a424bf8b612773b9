/**
 * A transport runs commands on one host and moves bytes to and from it. The migration code only
 * ever talks to hosts through this interface, so "local" and "over SSH" are interchangeable.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

export interface ExecOptions {
  /** Bytes for the command's stdin (the stdin is closed after them). */
  input?: string | Buffer;
  /** Extra environment variables for the command. */
  env?: Record<string, string>;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  /**
   * Run it to the end even if the controller dies or its connection drops (a checkpoint or a
   * restore: cut short, it would wedge the workload): through host-scripts/run-to-end.sh, its
   * output kept on the host until it ended. Not with `input`.
   */
  outlive?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Signal name when the command was killed by a signal. */
  signal?: string;
}

/** A command whose stdin and stdout are streams. */
export interface RunningCommand {
  stdin: Writable;
  stdout: Readable;
  /**
   * Settles when the command has exited and its output has been consumed. Rejects with a
   * MigrateError (COMMAND_FAILED) on a non-zero exit, with the last of its stderr.
   */
  done: Promise<{ exitCode: number; stderr: string }>;
  /** Stops the command (SIGTERM to its process group locally; over SSH, `kill -KILL` of its remote PID). */
  kill(): void;
  /**
   * Stops waiting for the command: it goes on by itself and may outlive this process (its
   * stdin is closed; nothing it prints is read any more).
   */
  letGo(): void;
}

/** A TCP port on the controller that leads to an address on the transport's host. */
export interface Forward {
  /** Connect here (on the controller) to reach the far end. */
  localHost: string;
  localPort: number;
  close(): Promise<void>;
}

/** A TCP port on the transport's host that leads back to an address on the controller. */
export interface ReverseForward {
  /** Processes on the transport's host connect here. */
  remoteHost: string;
  remotePort: number;
  close(): Promise<void>;
}

export interface Transport {
  /** How the host is named in messages: "local", "root@10.231.0.2". */
  readonly name: string;
  /** True when commands run on the controller's own machine. */
  readonly isLocal: boolean;
  /** The name or address the controller reaches the host by over the network (SSH); none for the local host. */
  readonly networkHost?: string;
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  spawn(argv: readonly string[], options?: Pick<ExecOptions, 'env'>): RunningCommand;
  /** A byte stream to `host:port` as seen from the transport's host (a TCP socket or an SSH channel). */
  openStream(port: number, host?: string): Promise<Duplex>;
  /** Reach `host:port` as seen from the transport's host through a port on the controller. */
  forward(port: number, host?: string): Promise<Forward>;
  /** Let the transport's host reach `host:port` on the controller through `remotePort` there. */
  reverseForward(remotePort: number, port: number, host?: string): Promise<ReverseForward>;
  /**
   * Let processes on the transport's host connect to `remotePort` (0: a free one) on its
   * loopback; each connection is handed to `onStream` on the controller (an SSH channel; a TCP
   * socket for the local host), without a hop through a socket on the controller.
   */
  reverseStream(remotePort: number, onStream: (stream: Duplex) => void): Promise<ReverseForward>;
  /**
   * Readies the link for bulk data toward this host, so that a transfer while a workload is
   * frozen does not pay one-time costs (SshTransport: sshd's first megabytes).
   */
  prime(): Promise<void>;
  close(): Promise<void>;
}
