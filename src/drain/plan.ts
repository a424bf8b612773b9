/**
 * A drain's plan: which container goes where, in which order, with which strategy, and how long
 * each freeze and the whole drain should take. Pure: the facts (drain/facts.ts) come in, the
 * plan goes out, so the rules are unit-tested and `--dry-run` shows exactly what a run does.
 *
 * - Order: largest resident memory first (`memory`, the default: the big moves start while the
 *   window is young), by name, or as selected (`given`).
 * - Placement, in that order: among the targets that have the image (or `--transfer-image`),
 *   enough available memory and enough disk for the checkpoint, the one with the most memory
 *   left after it; what each placed container needs is reserved. A container no target can take
 *   is skipped, with each target's reason.
 * - Strategy: strategy.ts's rules (auto), or the one asked for.
 * - Estimates: a freeze costs a fixed part by kind and strategy (measured in this lab, FIXED_FREEZE_MS) plus, for
 *   the strategies whose freeze carries memory, its resident size at the link's throughput
 *   measured at the start of the drain (the slower of the source's and the target's links to
 *   the controller, which the memory crosses both); a move adds its preparation and the memory's copy.
 *   `--max-freeze` skips a container whose estimated freeze is longer.
 */
import { checkpointBytes } from '../migration/preflight.js';
import { chooseStrategy, type Strategy } from '../migration/strategy.js';

export const ORDERS = ['memory', 'name', 'given'] as const;
export type DrainOrder = (typeof ORDERS)[number];

/** What a drain moves: a Docker container, a process tree (`--pids`) or a runc container (`--runc`). */
export type DrainKind = 'docker' | 'tree' | 'runc';

/** A workload to move, as the source reports it. */
export interface Candidate {
  kind: DrainKind;
  /** As reports name it: the container's name, `pid 4242`, `runc web`. */
  name: string;
  /** How migrate finds it on its host: the container's ID, the tree's root PID, runc's container ID. */
  id: string;
  /** Docker: the image the target must have (or receive). */
  image?: string;
  /** Resident bytes of its processes. */
  rss: number;
}

/** A target, as measured at the start of the drain. */
export interface TargetFacts {
  host: string;
  /** MemAvailable, bytes. */
  memoryFree: number;
  /** Free bytes under the work root. */
  diskFree: number;
  /** Images it has (by the name the containers use). */
  images: string[];
  uffd: boolean;
  /** The controller → target link, bytes per second. */
  throughput: number;
}

export interface PlanOptions {
  order?: DrainOrder;
  transferImage?: boolean;
  strategy?: Strategy | 'auto';
  maxFreezeMs?: number;
  parallel?: number;
  sourceSoftDirty?: boolean;
  /**
   * The source → controller leg, bytes per second (absent: the source is the controller). The
   * memory crosses both legs, so a move's link is the slower of this and its target's.
   */
  sourceThroughput?: number;
}

export interface PlannedMove {
  kind: DrainKind;
  name: string;
  /** The host it is on. */
  from: string;
  id: string;
  image?: string;
  rss: number;
  /** The target's host name, or null when it is skipped. */
  to: string | null;
  strategy: Strategy | null;
  reason: string;
  est_freeze_ms: number | null;
  est_move_ms: number | null;
  /** Why it will not be moved (no target can take it, --max-freeze). */
  skip?: string;
}

export interface DrainPlan {
  order: DrainOrder;
  parallel: number;
  moves: PlannedMove[];
  /** The whole drain, with `parallel` moves at a time in plan order. */
  est_total_ms: number;
  targets: Array<{ host: string; throughput_mb_s: number; memory_free: number; disk_free: number }>;
  /** Where the workloads are, and that host's link to the controller (null: it is the controller). Older journals lack it. */
  sources?: Array<{ host: string; throughput_mb_s: number | null }>;
}

/**
 * The fixed part of a freeze (ms) by what moves and how: all of it but the memory's copy.
 * From this lab's matrix of 2026-12-02 17:05 (bench/results/matrix.md, CRIU 4.2.1, 64–1024 MiB,
 * 0–50 MiB/s dirty, post-copy without the prefetcher; its section "Drain's estimates against this
 * run", bench/lib/drain-calibration.ts, computes these figures and flags any constant more than
 * 15 % off on every matrix run): cold, where the freeze carries the memory, the intercept of
 * freeze over size (Docker 992 ms, trees 309 ms; the slopes, 194–209 MB/s, are the link's, which
 * the drain measures itself); post-copy, flat in size, the median (Docker 861 ms, trees 167 ms).
 * The matrix of 2026-12-03 04:59 kept all of them within 15 % (Docker 938 and 749 ms, trees 326
 * ms) but trees' post-copy: 111 ms, taken here.
 * Runs on this lab differ by 10–60 % from one hour to the next (the matrix of 12:07 that day gave
 * 1140 and 453 ms for cold, before CRIU kept its kernel probes): estimates, not promises. Pre-copy
 * and hybrid cannot run here (no soft-dirty tracking): cold's and post-copy's, pre-copy's final
 * dump taken to cost 100 ms more. runc containers are moved in the soft-dirty guest only; they
 * get Docker's figures, an upper bound (no Docker around CRIU).
 */
export const FIXED_FREEZE_MS: Record<DrainKind, Record<Strategy, number>> = {
  docker: { cold: 990, precopy: 1090, postcopy: 860, hybrid: 860 },
  tree: { cold: 310, precopy: 410, postcopy: 110, hybrid: 110 },
  runc: { cold: 990, precopy: 1090, postcopy: 860, hybrid: 860 },
};
/**
 * The post-copy window against the link's throughput: without the prefetcher (the default) the
 * matrix's windows at 256 MiB and 1 GiB were 1.7–2.3× the memory at the rate of cold's slope in
 * the same run of 2026-12-02 17:05 (medians 1.95 for containers, 1.94 for trees): the daemon
 * places the pages between its requests, one at a time. Since the page relay lost its socket hop
 * (commit 34f8d65) the matrix of 2026-12-03 04:59 gave 1.65 and 1.55 (bench/results/matrix.md
 * as of commit fefaea7); the larger is taken. The one of 05:54 (the file now) gave 2.02 and 1.61:
 * the factor moves between runs like everything else here. Through `--page-channel direct` the window is shorter still (bench:window),
 * so a drain over direct channels is estimated long.
 */
export const POSTCOPY_WINDOW_FACTOR = 1.65;
/** Preflight, creating the twin and copying its files before the freeze (lab: 1.3–1.5 s). */
export const PREPARE_MS = 1500;
/** Memory headroom a target keeps beyond what it takes in. */
export const MEMORY_HEADROOM = 64 * 2 ** 20;

const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

function ordered(c: readonly Candidate[], order: DrainOrder): Candidate[] {
  if (order === 'given') return [...c];
  if (order === 'name') return [...c].sort((x, y) => x.name.localeCompare(y.name));
  return [...c].sort((x, y) => y.rss - x.rss || x.name.localeCompare(y.name));
}

/** Why this target cannot take the container now (undefined: it can). */
function cannotTake(t: TargetFacts, c: Candidate, left: { memory: number; disk: number }, transferImage: boolean): string | undefined {
  if (c.image !== undefined && !transferImage && !t.images.includes(c.image)) return `${t.host} lacks image ${c.image} (--transfer-image sends it)`;
  if (left.memory < c.rss + MEMORY_HEADROOM) return `${t.host} has ${mib(left.memory)} of memory left, ${mib(c.rss + MEMORY_HEADROOM)} needed`;
  if (left.disk < checkpointBytes(c.rss)) return `${t.host} has ${mib(left.disk)} of disk left, ${mib(checkpointBytes(c.rss))} needed`;
  return undefined;
}

/** The estimated freeze and whole move of a `kind` of `rss` bytes with `strategy` over a link of `throughput` B/s. */
export function estimate(kind: DrainKind, strategy: Strategy, rss: number, throughput: number): { freeze: number; move: number } {
  const copy = (rss / Math.max(throughput, 1)) * 1000;
  const freeze = FIXED_FREEZE_MS[kind][strategy] + (strategy === 'cold' || strategy === 'precopy' ? copy : 0);
  // Pre-copy and post-copy copy the memory outside the freeze (post-copy at the window's pace); cold inside it.
  const after = strategy === 'cold' ? 0 : strategy === 'precopy' ? copy : copy * POSTCOPY_WINDOW_FACTOR;
  const move = PREPARE_MS + freeze + after;
  return { freeze: Math.round(freeze), move: Math.round(move) };
}

/** The time `parallel` workers need for these durations taken in order (each to the first free worker). */
export function schedule(durations: readonly number[], parallel: number): number {
  const workers = Array.from({ length: Math.max(1, parallel) }, () => 0);
  for (const d of durations) {
    const i = workers.indexOf(Math.min(...workers));
    workers[i] = workers[i]! + d;
  }
  return Math.max(...workers);
}

export function planDrain(candidates: readonly Candidate[], targets: readonly TargetFacts[], o: PlanOptions = {}, from = 'local'): DrainPlan {
  const order = o.order ?? 'memory';
  const parallel = Math.max(1, o.parallel ?? 1);
  const left = new Map(targets.map((t) => [t.host, { memory: t.memoryFree, disk: t.diskFree }]));
  const moves: PlannedMove[] = [];
  for (const c of ordered(candidates, order)) {
    const base = { kind: c.kind, name: c.name, from, id: c.id, ...(c.image !== undefined ? { image: c.image } : {}), rss: c.rss };
    const why: string[] = [];
    let best: TargetFacts | undefined;
    for (const t of targets) {
      const l = left.get(t.host)!;
      const no = cannotTake(t, c, l, o.transferImage ?? false);
      if (no) why.push(no);
      else if (!best || l.memory > left.get(best.host)!.memory) best = t;
    }
    if (!best) {
      moves.push({ ...base, to: null, strategy: null, reason: '', est_freeze_ms: null, est_move_ms: null, skip: `no target can take it: ${why.join('; ')}` });
      continue;
    }
    const choice = o.strategy && o.strategy !== 'auto'
      ? { strategy: o.strategy, reason: `asked for (--strategy ${o.strategy})` }
      : chooseStrategy({ residentBytes: c.rss, sourceSoftDirty: o.sourceSoftDirty, targetUffd: best.uffd });
    const est = estimate(c.kind, choice.strategy, c.rss, Math.min(best.throughput, o.sourceThroughput ?? Infinity));
    if (o.maxFreezeMs !== undefined && est.freeze > o.maxFreezeMs) {
      moves.push({ ...base, to: null, strategy: choice.strategy, reason: choice.reason, est_freeze_ms: est.freeze, est_move_ms: null,
        skip: `its estimated freeze ${est.freeze} ms is longer than --max-freeze ${o.maxFreezeMs} ms` });
      continue;
    }
    const l = left.get(best.host)!;
    l.memory -= c.rss;
    l.disk -= checkpointBytes(c.rss);
    moves.push({ ...base, to: best.host, strategy: choice.strategy, reason: choice.reason, est_freeze_ms: est.freeze, est_move_ms: est.move });
  }
  return {
    order,
    parallel,
    moves,
    est_total_ms: schedule(moves.filter((m) => m.to).map((m) => m.est_move_ms!), parallel),
    targets: targets.map((t) => ({ host: t.host, throughput_mb_s: Math.round(t.throughput / 1e6), memory_free: t.memoryFree, disk_free: t.diskFree })),
    sources: [{ host: from, throughput_mb_s: o.sourceThroughput === undefined ? null : Math.round(o.sourceThroughput / 1e6) }],
  };
}
