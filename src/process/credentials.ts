/**
 * Who a process runs as, from /proc/PID/status, and what the host's root may do. CRIU reads every
 * dumped task's resource limits (prlimit); the kernel allows that across users only with
 * CAP_SYS_RESOURCE, which some roots (sandboxes, some container hosts) lack.
 */

/** Bit of CAP_SYS_RESOURCE in /proc/PID/status's CapEff (linux/capability.h). */
export const CAP_SYS_RESOURCE = 24;

/** Real, effective and saved IDs (the "Uid:"/"Gid:" lines' first three fields). */
export interface Ids { uids: number[]; gids: number[] }

/** "Uid:\t0\t0\t0\t0" → [0, 0, 0]. */
export function parseIdLine(line: string): number[] {
  return line.trim().split(/\s+/).slice(1, 4).map(Number);
}

export function hasCapability(capEffHex: string, bit: number): boolean {
  return /^[0-9a-f]+$/i.test(capEffHex) && ((BigInt(`0x${capEffHex}`) >> BigInt(bit)) & 1n) === 1n;
}

/**
 * Whether a caller with `caller`'s IDs may read the limits of a process with `ids` without
 * CAP_SYS_RESOURCE (kernel/sys.c, check_prlimit_permission: the caller's real uid and gid must equal the
 * process's real, effective and saved ones).
 */
export function sameCredentials(caller: Ids, ids: Ids): boolean {
  const [uid] = caller.uids;
  const [gid] = caller.gids;
  return ids.uids.every((u) => u === uid) && ids.gids.every((g) => g === gid);
}
