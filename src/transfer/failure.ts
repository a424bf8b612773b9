/** Why a streamed transfer failed, in the words of the command that ended it. */
import { setTimeout as delay } from 'node:timers/promises';
import { isMigrateError } from '../errors.js';

/** How long a failed transfer waits for its commands to say why they ended. */
const REASON_WAIT_MS = 2000;

/**
 * Why a transfer failed. When a command at either end exits with an error, the pipeline usually
 * fails first with a bare "premature close"; the command's own error (exit code, stderr: "cannot
 * enter …", "No space left on device") is what the user needs, so prefer it when it comes soon.
 */
export async function failureOf(e: unknown, ...commands: Array<Promise<unknown>>): Promise<unknown> {
  const timeout = delay(REASON_WAIT_MS, undefined, { ref: false });
  const ended = await Promise.all(commands.map((done) => Promise.race([done.then(() => undefined, (err: unknown) => err), timeout])));
  return ended.find((err) => isMigrateError(err) && err.stderr) ?? e;
}
