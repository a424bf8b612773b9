/**
 * Whose time a Docker post-copy freeze is, from one run's timeline on one clock (the lab's hosts
 * share it): the controller's freeze (report `freeze_ms` and where it starts), the
 * workload's last tick on A and first tick on B, and migrate's calls on both hosts
 * (timed-transport.ts). In the order they happen:
 *
 *   `docker checkpoint create` ─notFrozen─ last tick on A ─dump─ page server seen ─between─
 *   `docker start --checkpoint` ─restoreCommand─ it returned ─handOver─ report's end ─firstFaults─ first tick on B
 *
 * - notFrozen: `docker checkpoint create` (Docker, runc, CRIU's start-up) before CRIU froze the
 *   container. The workload still ran: only the controller counts it.
 * - dump: CRIU freezing and dumping everything but the memory, until migrate saw its page
 *   server listen (wait-listening.sh on A returned: it looks every few ms).
 * - between: migrate's own — the images' transfer, descriptors.json and runc.conf on B, the
 *   guards told — and CRIU's lazy-pages daemon starting on B (`daemonMs`: the part of
 *   `between` while `criu lazy-pages` was starting, until it said it was ready on its status fd;
 *   it starts beside the restore's preparations, so what migrate does meanwhile is hidden by it
 *   and not counted as migrate's).
 * - restoreCommand: `docker start --checkpoint` (Docker, containerd, runc, CRIU's restore). The
 *   restore leaves the copy stopped (runc.conf `leave-stopped`, so that migrate's death cannot
 *   leave two copies running).
 * - handOver: migrate's — the target's guard told to resume the copy, its answer back (the
 *   report's freeze ends there).
 * - firstFaults: after it resumed, until its first tick: post-copy's first page faults, served
 *   from A (the lazy-pages daemon, migrate's relay). Negative when the tick came first.
 * resume = handOver + firstFaults: from the restore command's return to the first tick.
 */
import { fail } from './fail.js';
import type { Call } from './timed-transport.js';

export interface FreezeTimeline {
  /** The report's freeze_ms, and its start: `freeze_start.command_ms` after the checkpoint command's issue (its call in `calls`). */
  freezeMs: number;
  commandMs: number;
  /** Epoch ms of the workload's last tick on A and first tick on B. */
  lastTickA: number;
  firstTickB: number;
  calls: Call[];
  /** The names of the hosts' transports (Call.host). */
  source: string;
  target: string;
}

export interface FreezeSplit {
  /** The workload's freeze: last tick on A → first tick on B (= dump + between + restoreCommand + resume). */
  workloadMs: number;
  /** The report's freeze_ms less the workload's freeze. */
  reportMinusWorkloadMs: number;
  /** Where the report's freeze starts, less the workload's last tick on A (the report's start is right when ≈ 0). */
  reportStartMinusLastTickMs: number;
  notFrozenMs: number;
  dumpMs: number;
  betweenMs: number;
  daemonMs: number;
  restoreCommandMs: number;
  resumeMs: number;
  handOverMs: number;
  firstFaultsMs: number;
  /** migrate's own time in the workload's freeze, at most: between less the daemon's start within it, + the hand-over (within resume). */
  migrateMaxMs: number;
}

const isDockerCheckpoint = (c: Call): boolean => c.how === 'exec' && c.argv?.[0] === 'docker' && c.argv[1] === 'checkpoint' && c.argv[2] === 'create';
const isDockerRestore = (c: Call): boolean => c.how === 'exec' && c.argv?.[0] === 'docker' && c.argv[1] === 'start' && c.argv.includes('--checkpoint');
const isDaemon = (c: Call): boolean => c.how === 'spawn' && c.argv?.[0] === 'criu' && c.argv[1] === 'lazy-pages';

export function splitFreeze(t: FreezeTimeline): FreezeSplit {
  const issued = (t.calls.find((c) => c.host === t.source && isDockerCheckpoint(c)) ?? fail('no docker checkpoint create on the source')).start;
  const seen = t.calls.find((c) => c.host === t.source && c.what === 'wait-listening' && c.exitCode === 0) ?? fail('no wait-listening on the source saw the page server');
  const restore = t.calls.find((c) => c.host === t.target && isDockerRestore(c)) ?? fail('no docker start --checkpoint on the target');
  const daemon = t.calls.find((c) => c.host === t.target && isDaemon(c)) ?? fail('no criu lazy-pages on the target');
  const ready = daemon.ready ?? fail('the lazy-pages daemon never said it was ready');
  const seenAt = seen.end!;
  const returned = restore.end ?? fail('docker start --checkpoint never returned');
  const betweenMs = restore.start - seenAt;
  const daemonMs = Math.max(0, Math.min(ready, restore.start) - Math.max(daemon.start, seenAt));
  const resumeMs = t.firstTickB - returned;
  const end = issued + t.commandMs + t.freezeMs;
  const handOverMs = end - returned;
  return {
    workloadMs: t.firstTickB - t.lastTickA,
    reportMinusWorkloadMs: t.freezeMs - (t.firstTickB - t.lastTickA),
    reportStartMinusLastTickMs: issued + t.commandMs - t.lastTickA,
    notFrozenMs: t.lastTickA - issued,
    dumpMs: seenAt - t.lastTickA,
    betweenMs,
    daemonMs,
    restoreCommandMs: returned - restore.start,
    resumeMs,
    handOverMs,
    firstFaultsMs: t.firstTickB - end,
    migrateMaxMs: betweenMs - daemonMs + Math.min(Math.max(0, handOverMs), Math.max(0, resumeMs)),
  };
}
