/**
 * The memload workload (lab/workload/memload.c): its arguments, and its `tick <n> <realtime_us>`
 * lines, which are the workload's own view of a migration.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fail } from './fail.js';
import { ROOT } from './lab.js';

/** The binary host A runs for process trees (host B sees the same path). */
export const MEMLOAD = join(ROOT, 'build/memload');

export interface MemloadParams {
  /** Resident, incompressible memory. */
  mib: number;
  /** MiB/s of pages it rewrites (0: none). */
  dirty?: number;
  tickMs: number;
  /** Makes the command line unique, so the bench finds its own processes by it. */
  seed?: number;
}

export const memloadArgs = (p: MemloadParams): string[] => [
  '--mib', String(p.mib), ...(p.dirty ? ['--dirty', String(p.dirty)] : []), '--tick-ms', String(p.tickMs), ...(p.seed === undefined ? [] : ['--seed', String(p.seed)]),
];

export interface Tick { n: number; us: number }

export const parseTicks = (text: string): Tick[] => [...text.matchAll(/^tick (\d+) (\d+)$/gm)].map((m) => ({ n: Number(m[1]), us: Number(m[2]) }));

/** True when the tick numbers go up by exactly one each line. */
export const continuous = (ticks: Tick[]): boolean => ticks.every((x, i) => i === 0 || x.n === ticks[i - 1]!.n + 1);

/** Polls `read` until it returns at least `count` ticks. */
export async function waitForTicks(read: () => Promise<Tick[]>, count: number, timeoutMs: number, what: string): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    if ((await read()).length >= count) return;
  }
  fail(`no ${count} ticks from ${what} within ${timeoutMs} ms`);
}
