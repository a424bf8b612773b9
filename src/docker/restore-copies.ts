/**
 * containerd's copy of a checkpoint it restores. `docker start --checkpoint` hands Docker's
 * checkpoint directory to containerd, which extracts it into a temp directory of its own
 * (ctrd-checkpoint…) for runc and never removes it (containerd/containerd#10166). migrate's
 * Docker checkpoints hold only descriptors.json (CRIU's images are in migrate's own directory,
 * runc/runc-conf.ts), so each move used to leave one small directory on the target; a plain
 * Docker checkpoint leaves the workload's whole memory there.
 *
 * The copy is known by its descriptors.json: the caller gives that file a modification time no
 * other file has (restoreStamp), which the copy keeps, and removes the copies with it afterwards.
 */
import { randomInt } from 'node:crypto';
import type { Transport } from '../../transports/transport.js';
import { hostScript } from '../host-scripts/index.js';

/** Where stamps come from: whole seconds between 2001 and 2004, which no file written today has. */
export const STAMPS = { first: 1_000_000_000, last: 1_099_999_999 };

/** A modification time no other file has: two moves share one once in 10^8. */
export const restoreStamp = (): number => STAMPS.first + randomInt(STAMPS.last - STAMPS.first + 1);

/**
 * Removes containerd's copies of the checkpoint whose descriptors.json has modification time
 * `stamp`, and those another run stamped and left over 10 minutes ago (it died mid-restore); how
 * many there were.
 */
export async function removeRestoreCopies(t: Transport, stamp: number): Promise<number> {
  const r = await t.exec(hostScript('remove-restore-copies', String(stamp), String(STAMPS.first), String(STAMPS.last)));
  return Number(r.stdout.trim());
}
