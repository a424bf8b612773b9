/** Turns a finished command into the COMMAND_FAILED error both transports raise. */
import { MigrateError } from './errors.js';
import { quoteCommand } from './quote.js';
import type { ExecResult } from './transport.js';

const STDERR_KEEP = 64 * 1024;

export function tailText(text: string, max = STDERR_KEEP): string {
  return text.length > max ? text.slice(-max) : text;
}

export function commandFailed(
  host: string,
  argv: readonly string[],
  env: Record<string, string> | undefined,
  result: ExecResult,
  timeoutMs?: number,
): MigrateError {
  const how = timeoutMs !== undefined
    ? `timed out after ${timeoutMs} ms`
    : result.signal
      ? `was killed by ${result.signal}`
      : `exited with code ${result.exitCode}`;
  return new MigrateError('COMMAND_FAILED', `command ${how}`, {
    host,
    command: quoteCommand(argv, env),
    exitCode: result.exitCode,
    signal: result.signal,
    stderr: result.stderr,
  });
}
