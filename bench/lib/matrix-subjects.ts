/**
 * The workload one matrix run moves, whichever kind: a fresh memload started on host A, read
 * on both hosts afterwards, and removed from both. Containers log per host (`docker logs` on A
 * survives with keepSource); a tree writes one file both hosts see, split where the restore
 * started (see outputLength).
 */
import type { MigrateEvent, Transport } from '../../src/index.js';
import { fail } from './fail.js';
import type { Lab } from './lab.js';
import { waitForTicks, type MemloadParams, type Tick } from './memload.js';
import { containerArgs, containerTicks, removeContainer } from './memload-container.js';
import { outputLength, removeTree, startTree, treeTicks, type StartedTree } from './memload-tree.js';

export type Kind = 'docker' | 'tree';

export interface Case { kind: Kind; mib: number; dirty: number }

export interface SubjectHosts { lab: Lab; a: Transport; b: Transport }

interface Common {
  /** Container name, or `pid N` of the tree's root on A. */
  label: string;
  ticksA(): Promise<Tick[]>;
  ticksB(): Promise<Tick[]>;
  remove(): Promise<void>;
}

export interface ContainerSubject extends Common { kind: 'docker'; name: string; createArgs: string[] }

export interface TreeSubject extends Common {
  kind: 'tree';
  tree: StartedTree;
  /** For migrate's onEvent: marks where A's output ends when the restore starts. */
  onEvent(e: MigrateEvent): void;
}

export type Subject = ContainerSubject | TreeSubject;

/** Ticks printed before a run moves the workload, and after, on B, before it is read. */
export const TICKS_BEFORE = 5;
export const TICKS_AFTER = 20;
/** Filling 1 GiB takes seconds; a busy lab takes longer. */
const START_TIMEOUT_MS = 120_000;
const AFTER_TIMEOUT_MS = 20_000;

export async function startSubject(h: SubjectHosts, c: Case, seq: number): Promise<Subject> {
  // The seed is not about the memory: it makes this run's command line unique (memload-tree.ts).
  const params: MemloadParams = { mib: c.mib, dirty: c.dirty, tickMs: 1, seed: seq };
  return c.kind === 'docker' ? startContainer(h, params, seq) : startTreeSubject(h, params);
}

async function startContainer(h: SubjectHosts, p: MemloadParams, seq: number): Promise<ContainerSubject> {
  const name = `bench-${process.pid}-${seq}`;
  const createArgs = containerArgs(h.lab.image, name, p);
  const s: ContainerSubject = {
    kind: 'docker', label: name, name, createArgs,
    ticksA: () => containerTicks(h.a, name),
    ticksB: () => containerTicks(h.b, name),
    remove: () => removeContainer(name, h.a, h.b),
  };
  try {
    await h.a.exec(['docker', 'run', '-d', ...createArgs]);
    await waitForTicks(s.ticksA, TICKS_BEFORE, START_TIMEOUT_MS, `${name} on A`);
  } catch (e) {
    await s.remove();
    throw e;
  }
  return s;
}

async function startTreeSubject(h: SubjectHosts, p: MemloadParams): Promise<TreeSubject> {
  const tree = await startTree(h.a, p, START_TIMEOUT_MS);
  let split: number | undefined;
  const ends = () => split ?? fail(`the migration of pid ${tree.pid} never reached its restore step`);
  const s: TreeSubject = {
    kind: 'tree', label: `pid ${tree.pid}`, tree,
    onEvent: (e) => { if (e.kind === 'step' && e.step === 'restore') split = outputLength(tree.out); },
    // Before the restore step everything in the file is A's; the read is local either way.
    ticksA: () => treeTicks(tree.out, 0, split),
    ticksB: async () => treeTicks(tree.out, ends()),
    remove: () => removeTree(tree, h.a, h.b),
  };
  try {
    await waitForTicks(s.ticksA, TICKS_BEFORE, START_TIMEOUT_MS, `pid ${tree.pid} on A`);
  } catch (e) {
    await s.remove();
    throw e;
  }
  return s;
}

/** After the move: waits for ticks on B. */
export const waitOnB = (s: Subject): Promise<void> => waitForTicks(s.ticksB, TICKS_AFTER, AFTER_TIMEOUT_MS, `${s.label} on B`);
