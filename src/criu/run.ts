/**
 * Runs `criu dump`, `criu pre-dump` and `criu restore` on a host with typed options. A failure
 * raises CRIU_FAILED carrying the `Error` lines of CRIU's own log, and where the full log is.
 */
import { posix } from 'node:path';
import { MigrateError, isMigrateError } from '../../transports/errors.js';
import type { Transport } from '../../transports/transport.js';
import { readFileVia } from '../../transports/files.js';
import { criuEnv } from './env.js';
import { hostScript } from '../host-scripts/index.js';
import { criuErrorLines } from './log.js';
import { decodeDumpStats, decodeRestoreStats, parseLazyPagesLog, type DumpStats, type LazyPagesStats, type RestoreStats } from './stats.js';

export interface CommonOptions {
  imagesDir: string;
  /** Where CRIU writes its log and other non-image files; defaults to imagesDir. */
  workDir?: string;
  /** The process tree was started from a shell / holds a terminal session (`--shell-job`). */
  shellJob?: boolean;
  tcpEstablished?: boolean;
  fileLocks?: boolean;
  /** CRIU log verbosity 0–4 (default 4: the log is what explains failures). */
  verbosity?: number;
  extraArgs?: string[];
}

export interface DumpOptions extends CommonOptions {
  pid: number;
  /** Keep the tree running after the dump (otherwise CRIU kills it on success). */
  leaveRunning?: boolean;
  /** Leave the tree stopped (SIGSTOP) after the dump: SIGCONT resumes it, SIGKILL ends it. */
  leaveStopped?: boolean;
  /** Pre-dump: memory only, the tree keeps running. */
  preDump?: boolean;
  trackMem?: boolean;
  /** Previous (pre-)dump, relative to imagesDir or absolute. */
  prevImagesDir?: string;
  lazyPages?: boolean;
  /** Send pages to a CRIU page server instead of writing them. */
  pageServer?: { address: string; port: number };
  /** Called right before criu is started (the freeze begins soon after). */
  onStart?: () => void;
}

export interface RestoreOptions extends CommonOptions {
  /** Return once the tree runs, leaving it detached from criu (default true). */
  detach?: boolean;
  pidfile?: string;
  lazyPages?: boolean;
  /** Leave the restored tree stopped (SIGSTOP): SIGCONT starts it, SIGKILL ends it. */
  leaveStopped?: boolean;
}

function commonArgs(o: CommonOptions, log: string): string[] {
  const args = ['-D', o.imagesDir, '-o', log, `-v${o.verbosity ?? 4}`];
  if (o.workDir) args.push('-W', o.workDir);
  if (o.shellJob) args.push('--shell-job');
  if (o.tcpEstablished) args.push('--tcp-established');
  if (o.fileLocks) args.push('--file-locks');
  return args;
}

export function dumpArgs(o: DumpOptions): string[] {
  const log = o.preDump ? 'pre-dump.log' : 'dump.log';
  const args = [o.preDump ? 'pre-dump' : 'dump', '-t', String(o.pid), ...commonArgs(o, log)];
  if (o.leaveRunning && !o.preDump) args.push('--leave-running');
  if (o.leaveStopped && !o.preDump) args.push('--leave-stopped');
  if (o.trackMem) args.push('--track-mem');
  if (o.prevImagesDir) args.push('--prev-images-dir', o.prevImagesDir);
  if (o.lazyPages) args.push('--lazy-pages');
  if (o.pageServer) args.push('--page-server', '--address', o.pageServer.address, '--port', String(o.pageServer.port));
  return [...args, ...(o.extraArgs ?? [])];
}

export function restoreArgs(o: RestoreOptions): string[] {
  const args = ['restore', ...commonArgs(o, 'restore.log')];
  if (o.detach ?? true) args.push('-d');
  if (o.pidfile) args.push('--pidfile', o.pidfile);
  if (o.lazyPages) args.push('--lazy-pages');
  if (o.leaveStopped) args.push('--leave-stopped');
  return [...args, ...(o.extraArgs ?? [])];
}

/** The `Error` lines of a CRIU log on a host (empty when the log is missing). */
export async function logErrors(t: Transport, logPath: string): Promise<string[]> {
  const text = await readFileVia(t, logPath).then((b) => b.toString('utf8'), () => '');
  return criuErrorLines(text);
}

/**
 * Runs a command that runs CRIU (criu itself, runc) to its end even if migrate dies meanwhile
 * (`outlive`); a non-zero exit becomes CRIU_FAILED carrying the `Error` lines of CRIU's log at
 * `logPath` (what explains it), and where the log is.
 */
export async function runWithCriuLog(t: Transport, argv: string[], what: string, logPath: string, env?: Record<string, string>): Promise<void> {
  try {
    await t.exec(argv, { outlive: true, ...(env ? { env } : {}) });
  } catch (e) {
    if (!isMigrateError(e, 'COMMAND_FAILED')) throw e;
    const lines = await logErrors(t, logPath);
    throw new MigrateError('CRIU_FAILED', `${what} failed`, {
      host: t.name,
      command: e.command,
      exitCode: e.exitCode,
      stderr: lines.length > 0 ? lines.join('\n') : e.stderr,
      hint: `full log: ${logPath} on ${t.name}`,
      cause: e,
    });
  }
}

function runCriu(t: Transport, args: string[], o: CommonOptions, log: string): Promise<void> {
  return runWithCriuLog(t, ['criu', ...args], `criu ${args[0]}`, posix.join(o.workDir ?? o.imagesDir, log), criuEnv());
}

export async function dump(t: Transport, o: DumpOptions): Promise<void> {
  // Images hold the workload's whole memory: private to root from the first byte.
  await t.exec(['mkdir', '-p', '-m', '0700', o.imagesDir, ...(o.workDir ? [o.workDir] : [])]);
  o.onStart?.();
  await runCriu(t, dumpArgs(o), o, o.preDump ? 'pre-dump.log' : 'dump.log');
}

export async function restore(t: Transport, o: RestoreOptions): Promise<void> {
  await runCriu(t, restoreArgs(o), o, 'restore.log');
}

/** CRIU writes its stats into the work dir (which is the images dir unless -W was given). */
export async function readDumpStats(t: Transport, workDir: string): Promise<DumpStats> {
  return decodeDumpStats(await readFileVia(t, posix.join(workDir, 'stats-dump')));
}

/**
 * When CRIU began freezing the workload, as epoch ms on the host's clock, from the dump's log in
 * `workDir` (host script freeze-started.sh): its mtime less the time between the line that opens
 * CRIU's freezing stage and its last line. The kernel's file times are coarse (a jiffy: 4 ms at
 * HZ=250), which can only make it earlier. Throws when the log does not say.
 */
export async function dumpFreezeStartedAt(t: Transport, workDir: string): Promise<number> {
  const log = posix.join(workDir, 'dump.log');
  const r = await t.exec(hostScript('freeze-started', log), { allowFailure: true });
  const m = /^(\d+)\.(\d+) (\d+\.\d+) (\d+\.\d+)$/.exec(r.stdout.trim());
  if (r.exitCode !== 0 || !m) throw new MigrateError('CRIU_FAILED', `${log} does not say when CRIU began freezing the workload (freeze-started.sh exit ${r.exitCode})`, { host: t.name });
  const writtenAt = Number(m[1]) * 1e3 + Number(m[2]!.padEnd(9, '0')) / 1e6;
  return writtenAt - (Number(m[4]) - Number(m[3])) * 1e3;
}

/** On-demand and background pages of a lazy-pages daemon, from its log (grep'd there: it is long). */
export async function readLazyPagesStats(t: Transport, workDir: string): Promise<LazyPagesStats> {
  const r = await t.exec(['grep', '-o', '-e', '#PF at 0x', '-e', 'UFFD transferred pages: ([0-9]*/[0-9]*)', posix.join(workDir, 'lazy-pages.log')], { allowFailure: true });
  return parseLazyPagesLog(r.stdout);
}

/**
 * How many TCP connections the restore re-created (kept, or shut down with tcp-close): CRIU logs
 * "Restoring TCP connection" for each (sk-tcp.c, restore_one_tcp). Undefined without a log.
 */
export async function readRestoredTcp(t: Transport, workDir: string): Promise<number | undefined> {
  const r = await t.exec(['grep', '-c', 'Restoring TCP connection', posix.join(workDir, 'restore.log')], { allowFailure: true });
  return r.exitCode <= 1 && /^\d+$/.test(r.stdout.trim()) ? Number(r.stdout.trim()) : undefined;
}

export async function readRestoreStats(t: Transport, workDir: string): Promise<RestoreStats> {
  return decodeRestoreStats(await readFileVia(t, posix.join(workDir, 'stats-restore')));
}
