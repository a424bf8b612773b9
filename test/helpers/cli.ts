/** The `migrate` binary as a test runs it: signalled part-way, as scripts and terminals do. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './lab.js';

export const CLI = join(REPO, 'dist/migrate/cli.js');

export interface SignalledRun { code: number | null; stdout: string; stderr: string; sent: boolean }

/**
 * Runs the CLI in its own process group and, `delayMs` after its stderr shows `when`, sends it
 * `signal`: to the CLI alone (`to: 'process'`, as `timeout` does), or to its whole group
 * (`'group'`, as a terminal's Ctrl-C or `kill -9 -PGID` does; the CLI's children get it too
 * unless they are shielded).
 */
export async function runSignalled(args: string[], when: RegExp, delayMs: number, signal: NodeJS.Signals, to: 'process' | 'group'): Promise<SignalledRun> {
  const child = spawn('node', [CLI, ...args], { env: process.env, detached: true });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
    if (!sent && when.test(stderr)) {
      sent = true;
      setTimeout(() => process.kill(to === 'group' ? -child.pid! : child.pid!, signal), delayMs);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr, sent };
}
