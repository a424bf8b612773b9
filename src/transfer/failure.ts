/** Why a streamed transfer failed, in the words of the command that ended it. */
import { setTimeout as delay } from 'node:timers/promises';
import { MigrateError, isMigrateError } from '../../transports/errors.js';

/** How long a failed transfer waits for its commands to say why they ended. */
const REASON_WAIT_MS = 2000;

/**
 * Why a transfer failed. When a command at either end exits with an error, the pipeline usually
 * fails first with a bare "premature close"; the command's own error (exit code, stderr: "cannot
 * enter …", "No space left on device") is what the user needs, so prefer it when it comes soon.
 */
async function failureOf(e: unknown, ...commands: Array<Promise<unknown>>): Promise<unknown> {
  const timeout = delay(REASON_WAIT_MS, undefined, { ref: false });
  const ended = await Promise.all(commands.map((done) => Promise.race([done.then(() => undefined, (err: unknown) => err), timeout])));
  return ended.find((err) => isMigrateError(err) && err.stderr) ?? e;
}

export interface TransferFailure {
  /** What failed: "sending the checkpoint images failed". */
  what: string;
  /** The host named when the failing command does not name its own. */
  host: string;
  hint: string;
  /** A cancelled transfer keeps its abort as the reason (throwIfAborted reports it). */
  signal?: AbortSignal;
}

/** TRANSFER_FAILED for a stream that failed with `e`, told in the words of the command that ended it (failureOf). */
export async function transferFailed(e: unknown, commands: Array<Promise<unknown>>, o: TransferFailure): Promise<MigrateError> {
  const why = o.signal?.aborted ? e : await failureOf(e, ...commands);
  return new MigrateError('TRANSFER_FAILED', o.what, {
    host: (isMigrateError(why) && why.host) || o.host,
    stderr: isMigrateError(why) ? `${why.message}\n${why.stderr ?? ''}`.trim() : String(why),
    hint: o.hint,
    cause: why,
  });
}
