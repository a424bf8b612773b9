/**
 * Whether a failure was a full filesystem, told from the filesystem itself rather than from the
 * failing command's words. CRIU's page server writes its log into the same directory as the
 * images, so on a full disk its log ends mid-line ("Error (cr") and never says "No space left on
 * device"; asking `df` right after the failure, before anything is cleaned up, is deterministic.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';

/** Below this much free space (or no free inode) a failed write is taken to be the disk's fault. */
export const FULL_BELOW_BYTES = 1024 * 1024;

export interface FreeSpace {
  availBytes: number;
  /** Free inodes; null where the filesystem has no fixed count (df prints "-"). */
  freeInodes: number | null;
}

/** Parses `df -Pk DIR; df -Pi DIR` (two header+row pairs). */
export function parseFreeSpace(out: string): FreeSpace | undefined {
  const rows = out.trim().split('\n').filter((l) => !/^Filesystem/.test(l));
  if (rows.length < 2) return undefined;
  const avail = Number(rows[0]!.trim().split(/\s+/)[3]);
  const ifree = rows[1]!.trim().split(/\s+/)[3];
  if (!Number.isFinite(avail)) return undefined;
  return { availBytes: avail * 1024, freeInodes: ifree === undefined || !/^\d+$/.test(ifree) ? null : Number(ifree) };
}

/** Full: under FULL_BELOW_BYTES free, or no inode left. */
export function isFull(f: FreeSpace): boolean {
  return f.availBytes < FULL_BELOW_BYTES || f.freeInodes === 0;
}

/**
 * NO_SPACE for `cause` when the filesystem holding `dir` on `host` is full now; undefined when it
 * is not (or cannot be asked: the host may be what broke).
 */
export async function noSpaceError(host: Transport, dir: string, cause: unknown): Promise<MigrateError | undefined> {
  const r = await host.exec(hostScript('free-space', dir), { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
  const free = r && r.exitCode === 0 ? parseFreeSpace(r.stdout) : undefined;
  if (!free || !isFull(free)) return undefined;
  const what = free.freeInodes === 0 ? 'no free inode left' : `${Math.floor(free.availBytes / 1024)} KiB free`;
  return new MigrateError('NO_SPACE', `No space left on device under ${dir} (${what})`, {
    host: host.name,
    stderr: cause instanceof Error ? cause.message : String(cause),
    hint: `free space on ${host.name} or point MIGRATE_WORK_DIR at a larger filesystem, then migrate again`,
    cause,
  });
}
