/**
 * The one error family of migrate. Every failure carries a code, the host it happened on, the
 * command that failed (when there was one), and a hint that tells the user what to do next.
 * Messages are built here only, so they all read the same way:
 *   "<what failed> on <host>[: <command>]\n<stderr or detail>\n→ <hint>"
 */
export type ErrorCode =
  | 'BAD_INPUT' // the user asked for something malformed or impossible
  | 'COMMAND_FAILED' // a command exited non-zero or was killed
  | 'COMMAND_NOT_FOUND' // the program is not installed on that host
  | 'SSH_UNREACHABLE' // TCP connect / handshake failed
  | 'SSH_AUTH' // the server refused every key we offered
  | 'SSH_HOST_KEY_UNKNOWN' // no known_hosts entry for that host
  | 'SSH_HOST_KEY_CHANGED' // known_hosts has a different key
  | 'SSH_CHANNEL' // the connection broke under a running command or forward
  | 'FORWARD_FAILED' // a port forward could not be set up
  | 'DOCKER_API' // a Docker daemon refused an Engine API request (or could not be reached)
  | 'CRIU_FAILED' // criu ran and reported an error
  | 'CRIU_UNUSABLE' // criu missing, too old, or failing `criu check`
  | 'IMAGE_CORRUPT' // a CRIU image file could not be decoded
  | 'LOCKED' // another migrate run holds the lock
  | 'PREFLIGHT' // a precondition failed before anything was frozen
  | 'TRANSFER_FAILED' // the image stream broke or did not verify
  | 'NO_SPACE' // a host's filesystem filled up (blocks or inodes) during the run
  | 'RESTORE_FAILED' // the workload could not be started on the target
  | 'FREEZE_TIMEOUT' // a step inside the freeze did not finish within --freeze-timeout
  | 'INTERRUPTED'; // the user stopped the run (Ctrl-C)

export interface ErrorDetails {
  /** Which host it happened on: "local", "root@10.0.0.2", ... */
  host?: string;
  /** The command as the user could type it again (already quoted). */
  command?: string;
  exitCode?: number;
  signal?: string;
  stderr?: string;
  /** What the user should do about it. */
  hint?: string;
  /** Where the workload runs after this failure, when a migration had already frozen it. */
  runsOn?: 'source' | 'target' | 'none' | 'unknown';
  cause?: unknown;
}

const STDERR_IN_MESSAGE = 2000;

export class MigrateError extends Error {
  override readonly name = 'MigrateError';
  readonly code: ErrorCode;
  readonly host?: string;
  readonly command?: string;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly stderr?: string;
  readonly hint?: string;
  readonly runsOn?: 'source' | 'target' | 'none' | 'unknown';
  /** The reason alone, without host, command and hint. */
  readonly reason: string;

  constructor(code: ErrorCode, reason: string, details: ErrorDetails = {}) {
    super(formatMessage(reason, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.reason = reason;
    this.host = details.host;
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderr = details.stderr;
    this.hint = details.hint;
    this.runsOn = details.runsOn;
  }

  /** A plain object for JSON reports. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      host: this.host,
      command: this.command,
      exitCode: this.exitCode,
      signal: this.signal,
      hint: this.hint,
      runs_on: this.runsOn,
    };
  }
}

function formatMessage(reason: string, d: ErrorDetails): string {
  let msg = reason;
  if (d.host) msg += ` on ${d.host}`;
  if (d.command) msg += `: ${d.command}`;
  const stderr = d.stderr?.trim();
  if (stderr) {
    const tail = stderr.length > STDERR_IN_MESSAGE ? '…' + stderr.slice(-STDERR_IN_MESSAGE) : stderr;
    msg += `\n${tail}`;
  }
  if (d.hint) msg += `\n→ ${d.hint}`;
  return msg;
}

/** Any thrown value as the `error` object of a JSON report. */
export function errorJson(e: unknown): Record<string, unknown> {
  return e instanceof MigrateError ? e.toJSON() : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

export function isMigrateError(e: unknown, code?: ErrorCode): e is MigrateError {
  return e instanceof MigrateError && (code === undefined || e.code === code);
}

/** Raises INTERRUPTED once the user aborted (Ctrl-C); a no-op otherwise. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new MigrateError('INTERRUPTED', 'migration interrupted', { hint: 'nothing is left half-done: the workload runs where the report says' });
}
