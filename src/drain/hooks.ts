/**
 * `--before CMD` / `--after CMD`: a command run on the controller for each container of a drain
 * (through the shell, like a Makefile line), e.g. to take it out of a load balancer before and
 * to update DNS after. It gets, in its environment:
 *   MIGRATE_DRAIN_ID, MIGRATE_CONTAINER, MIGRATE_FROM, MIGRATE_TO, MIGRATE_HOOK (before|after),
 *   and after the move MIGRATE_OUTCOME, MIGRATE_RUNS_ON, MIGRATE_FREEZE_MS, MIGRATE_REPORT (the
 *   report as JSON).
 * A failing `--before` skips that container (it stays where it is); a failing `--after` is
 * reported as a warning, the container having moved already.
 */
import { execa } from 'execa';

export interface HookRun {
  ok: boolean;
  exitCode?: number;
  /** The end of its output (stdout and stderr), for the summary. */
  output: string;
}

export const HOOK_TIMEOUT_MS = 5 * 60_000;

export async function runHook(cmd: string, env: Record<string, string>): Promise<HookRun> {
  const r = await execa(cmd, { shell: true, env, reject: false, all: true, timeout: HOOK_TIMEOUT_MS, stdin: 'ignore' });
  const output = String(r.all ?? '').trim().split('\n').slice(-5).join('\n');
  return { ok: r.exitCode === 0 && !r.timedOut, exitCode: r.exitCode, output: r.timedOut ? `timed out after ${HOOK_TIMEOUT_MS / 1000} s\n${output}` : output };
}
