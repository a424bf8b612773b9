/**
 * Directories only root may use on a host: the work root (checkpoint images) and the directory
 * of the workload locks. Another local user who owns one, may write into it, or put a symlink
 * at its path could read a workload's memory, swap its images, or hold or break its locks: such
 * a directory is refused (PREFLIGHT), never repaired behind the user's back. A missing one is
 * made 0700 (host-scripts/make-private-dir.sh).
 */
import type { Transport } from '../transports/transport.js';
import { MigrateError } from '../transports/errors.js';
import { hostScript } from './host-scripts/index.js';

/** What is at the path, as `stat -c '%F|%u|%U|%a'` tells it (a symlink not followed). */
export interface DirStat {
  /** "directory", "symbolic link", "regular file", ... */
  type: string;
  uid: number;
  owner: string;
  /** Permission bits, with setuid/setgid/sticky (e.g. 0o1777). */
  mode: number;
}

export interface DirRule {
  /** The exact permission bits it must have (the lock directory: 0o700); otherwise only: nobody but root may write. */
  exactMode?: number;
}

export function parseDirStat(line: string): DirStat {
  const [type = '', uid = '', owner = '', mode = ''] = line.trim().split('|');
  return { type, uid: Number(uid), owner, mode: parseInt(mode, 8) };
}

export const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/** Why the directory is not root's alone (empty when it is). */
export function privateDirProblems(s: DirStat, rule: DirRule = {}): string[] {
  if (s.type === 'symbolic link') return ['it is a symbolic link'];
  if (s.type !== 'directory') return [`it is a ${s.type || 'thing of unknown type'}, not a directory`];
  const problems: string[] = [];
  if (s.uid !== 0) problems.push(`it is owned by uid ${s.uid}, not root`);
  if (s.mode & 0o022) problems.push('it is writable by group or others');
  if (rule.exactMode !== undefined && (s.mode & 0o7777) !== rule.exactMode && !(s.mode & 0o022)) {
    problems.push(`its mode is ${octal(s.mode)}, not ${octal(rule.exactMode)}`);
  }
  return problems;
}

/** What to do about it, on that host. */
export function privateDirFix(path: string, s: DirStat, rule: DirRule = {}): string {
  const mode = octal(rule.exactMode ?? 0o700);
  if (s.type !== 'directory') return `remove ${path} there (migrate makes the directory, ${mode}, when nothing is at its path), after finding out who put it there`;
  return `chown root:root ${path} && chmod ${mode} ${path} there, after checking who else used it and what it holds`;
}

/**
 * Makes `path` (0700) on the host when missing, and refuses it (PREFLIGHT) when it is not root's
 * alone. `what` names it in the message ("the work directory"). Returns the KiB available on its
 * filesystem (NaN when unknown).
 */
export async function requirePrivateDir(t: Transport, path: string, what: string, rule: DirRule = {}): Promise<number> {
  const [statLine = '', dfRow = ''] = (await t.exec(hostScript('make-private-dir', path))).stdout.split('\n');
  const s = parseDirStat(statLine);
  const problems = privateDirProblems(s, rule);
  if (problems.length > 0) {
    throw new MigrateError('PREFLIGHT', `${what} ${path} is not root's alone: ${problems.join(', ')} (owner ${s.owner} (uid ${s.uid}), mode ${octal(s.mode)})`, {
      host: t.name, hint: privateDirFix(path, s, rule),
    });
  }
  return Number(dfRow.trim().split(/\s+/)[3]);
}
