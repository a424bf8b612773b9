/**
 * Draining a host: every selected container moves to the targets, following a plan (plan.ts),
 * `parallel` at a time, each step journalled (journal.ts) so that a drain whose controller died
 * is resumed (`resumeDrain`) without moving a container twice or leaving one out, and reversed
 * (`undrain`: every container back to the host it came from).
 *
 * Policy: a failed container stays on its source (migrate rolls back) and, unless `keepGoing`,
 * no further move starts; past the `deadline` no move starts; a failing `before` hook skips its
 * container. What was not started is listed as such, and a resume picks it up.
 *
 * The library never prints: it reports with DrainEvents and the per-container MigrateEvents
 * (tagged with the container), and returns a DrainReport.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError, errorJson, isMigrateError } from '../../transports/errors.js';
import type { MigrateEvent } from '../events.js';
import { findContainer } from '../docker/containers.js';
import { TWIN_LABEL } from '../docker/container.js';
import { migrateDockerContainer } from '../migration/docker.js';
import { migrateProcessTree } from '../migration/tree.js';
import { migrateRuncContainer } from '../migration/runc.js';
import { describeTree } from '../process/tree.js';
import { DEFAULT_RUNC_ROOT, runcState } from '../runc/runc.js';
import type { DockerOptions } from '../migration/kinds/docker.js';
import { defaultWorkRoot, type MigrationOptions } from '../migration/options.js';
import { residentBytes } from '../migration/preflight.js';
import type { MigrationReport, RunsOn } from '../migration/report.js';
import { hasFeature } from '../criu/features.js';
import { runHook } from './hooks.js';
import { parseFilters, selectContainers, selectRunc, selectTrees, sourceThroughput, targetFacts } from './facts.js';
import { DrainJournal, defaultJournalDir, newDrainId, type MoveOutcome, type MoveState } from './journal.js';
import { planDrain, schedule, type Candidate, type DrainOrder, type DrainPlan, type PlannedMove } from './plan.js';

/** What a drain reports while it runs, besides each migration's own events (tagged `workload`). */
export type DrainEvent =
  | { kind: 'drain'; event: 'planned'; id: string | null; plan: DrainPlan }
  | { kind: 'drain'; event: 'started'; id: string | null; name: string; from: string; to: string }
  | { kind: 'drain'; event: 'finished'; id: string | null; name: string; outcome: ContainerOutcome; runs_on: RunsOn | null; freeze_ms: number | null; reason?: string }
  | { kind: 'drain'; event: 'stopping'; id: string | null; reason: string };

export type DrainEventSink = (e: DrainEvent | (MigrateEvent & { workload?: string })) => void;

const noEvents: DrainEventSink = () => {};

/** How one container fared: a move's outcome, or `ready`/`refused` (dry run's preflight), or `not-started`. */
export type ContainerOutcome = MoveOutcome | 'ready' | 'refused' | 'not-started';

/** What migrate() takes beyond the workload and the hosts, the same for every container. */
export type MoveOptions = Omit<MigrationOptions, 'source' | 'target' | 'onEvent' | 'signal' | 'dryRun' | 'faults'> & Pick<DockerOptions, 'transferImage' | 'keepSource' | 'force'>;

export interface DrainOptions {
  source: Transport;
  targets: Transport[];
  /** Docker's `docker ps` filters (`label=tier=cache`, `name=web`); none (and no pids or runc): every running container. */
  select?: string[];
  /** Process trees to move too, by their root's PID (each in its own PID namespace, as for `migrate --pid`). */
  pids?: number[];
  /** Containers runc runs by itself to move too, by ID, under `runcRoot` (default /run/runc). */
  runc?: string[];
  runcRoot?: string;
  parallel?: number;
  order?: DrainOrder;
  /** Skip (and list) a container whose estimated freeze is longer. */
  maxFreezeMs?: number;
  /** No move starts after this time (ms since the epoch). */
  deadline?: number;
  /** Go on after a failed container (default: stop at the first failure). */
  keepGoing?: boolean;
  /** Commands run on the controller before and after each container (hooks.ts). */
  before?: string;
  after?: string;
  /** Plan and run every container's preflight; freeze nothing. */
  dryRun?: boolean;
  /** Options of every container's migration (strategy, tcp, pages, ...). */
  migration?: MoveOptions;
  /** Where the journal goes on the controller (default `<work root>/drains`). */
  journalDir?: string;
  /** How each host is reached (e.g. `ssh://root@b`), by transport name: kept in the journal for --resume and undrain. */
  hostUrls?: Record<string, string>;
  onEvent?: DrainEventSink;
  signal?: AbortSignal;
  /** Moves one workload (default: moveWorkload). For tests. */
  move?: (m: PlannedMove, o: MigrationOptions) => Promise<MigrationReport>;
}

export interface ContainerResult {
  name: string;
  from: string;
  to: string | null;
  strategy: string | null;
  outcome: ContainerOutcome;
  runs_on: RunsOn | null;
  freeze_ms: number | null;
  est_freeze_ms: number | null;
  reason?: string;
  report?: MigrationReport;
  error?: Record<string, unknown>;
}

export interface DrainReport {
  /** The journal's ID (null for a dry run, which writes none). */
  id: string | null;
  /** drained: every selected container moved; partial: some did; failed: none did; dry-run. */
  outcome: 'drained' | 'partial' | 'failed' | 'dry-run';
  plan: DrainPlan;
  containers: ContainerResult[];
  totals: { selected: number; migrated: number; failed: number; skipped: number; not_started: number; max_freeze_ms: number | null; elapsed_ms: number };
  /** Why moves stopped being started (first failure, deadline, interrupted). */
  stopped?: string;
  undrain_of?: string;
}

/** The targets' facts, one after the other (the throughput probes would share the controller's link). */
async function measureTargets(targets: readonly Transport[], images: string[], workRoot: string) {
  const facts = [];
  for (const t of targets) facts.push(await targetFacts(t, images, workRoot));
  return facts;
}

/** Plans a drain of `o.source` and runs it (or, with dryRun, every preflight). */
export async function drain(o: DrainOptions): Promise<DrainReport> {
  const emit = o.onEvent ?? noEvents;
  const workRoot = o.migration?.workRoot ?? defaultWorkRoot();
  const containers = o.select !== undefined || (o.pids === undefined && o.runc === undefined);
  const candidates = [
    ...(containers ? await selectContainers(o.source, parseFilters(o.select ?? [])) : []),
    ...await selectTrees(o.source, o.pids ?? []),
    ...await selectRunc(o.source, o.runc ?? [], o.runcRoot),
  ];
  const [[facts, fromSource], softDirty] = await Promise.all([
    // One probe at a time: they would share the controller's link.
    measureTargets(o.targets, imagesOf(candidates), workRoot).then(async (f) => [f, await sourceThroughput(o.source)] as const),
    o.migration?.strategy === undefined || o.migration.strategy === 'auto' ? hasFeature(o.source, 'mem_dirty_track') : false,
  ]);
  const plan = planDrain(candidates, facts, {
    order: o.order, parallel: o.parallel, maxFreezeMs: o.maxFreezeMs, transferImage: o.migration?.transferImage,
    strategy: o.migration?.strategy, sourceSoftDirty: softDirty, sourceThroughput: fromSource,
  }, o.source.name);
  if (o.dryRun) {
    emit({ kind: 'drain', event: 'planned', id: null, plan });
    return dryRun(o, plan);
  }
  const journal = DrainJournal.create(o.journalDir ?? defaultJournalDir(), {
    id: newDrainId(), from: o.source.name, to: o.targets.map((t) => t.name), hosts: o.hostUrls ?? {}, plan, options: journalled(o),
  });
  emit({ kind: 'drain', event: 'planned', id: journal.header.id, plan });
  return execute(o, journal, hostsOf(o), new Map());
}

const imagesOf = (c: readonly Candidate[]): string[] => [...new Set(c.flatMap((x) => (x.image !== undefined ? [x.image] : [])))];

/**
 * Migrates one planned workload with the drain's options (Docker's own only for containers),
 * with the strategy the plan chose, so the run does what the plan (and a dry run) showed.
 */
export function moveWorkload(m: PlannedMove, o: MigrationOptions & Partial<MoveOptions> & { runcRoot?: string }): Promise<MigrationReport> {
  const { transferImage, keepSource, force, runcRoot, ...common } = { ...o, strategy: m.strategy ?? o.strategy };
  if (m.kind === 'tree') return migrateProcessTree({ ...common, pid: Number(m.id) });
  if (m.kind === 'runc') return migrateRuncContainer({ ...common, id: m.id, runcRoot });
  return migrateDockerContainer({ ...common, container: m.name, transferImage, keepSource, force });
}

const hostsOf = (o: Pick<DrainOptions, 'source' | 'targets'>): Map<string, Transport> => new Map([o.source, ...o.targets].map((t) => [t.name, t]));

/** The options a resume needs again (hooks, policy, migration options). */
function journalled(o: DrainOptions): Record<string, unknown> {
  return { parallel: o.parallel, keepGoing: o.keepGoing, before: o.before, after: o.after, deadline: o.deadline, runcRoot: o.runcRoot, migration: o.migration ?? {} };
}

export interface ResumeOptions extends Omit<DrainOptions, 'source' | 'targets' | 'select' | 'pids' | 'runc' | 'order' | 'maxFreezeMs' | 'dryRun'> {
  id: string;
  /** Every host the drain names, reached again (by transport name: the journal's `from` and `to`). */
  hosts: Transport[];
}

/**
 * Continues a drain from its journal: a container journalled done stays as it is; one in flight
 * when the controller died is first found (moved already, or still on its source: migrate's own
 * recovery puts back what the dead run left); the rest move as planned.
 */
export async function resumeDrain(o: ResumeOptions): Promise<DrainReport> {
  const journal = DrainJournal.open(o.journalDir ?? defaultJournalDir(), o.id);
  const saved = journal.header.options as Partial<DrainOptions>;
  const hosts = new Map(o.hosts.map((t) => [t.name, t]));
  const plan = journal.header.plan;
  for (const h of new Set(plan.moves.flatMap((m) => (m.to ? [m.from, m.to] : [m.from])))) {
    if (!hosts.has(h)) throw new MigrateError('BAD_INPUT', `drain ${o.id} involves host ${h}, which was not given`, { hint: `reach it as ${journal.header.hosts[h] ?? h}` });
  }
  (o.onEvent ?? noEvents)({ kind: 'drain', event: 'planned', id: o.id, plan });
  const merged: DrainOptions = { ...givenOver(saved, o), source: o.hosts[0]!, targets: o.hosts };
  return execute(merged, journal, hosts, journal.moves());
}

const definedOnly = <T extends object>(x: T): Partial<T> => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The options of a resumed or reversed drain: the drain's own (its journal), with what is given
 * now in their place — the migration options one by one, so `--tcp close` on a resume changes
 * that and keeps the drain's page channel, image transfer, strategy, ...
 */
export function givenOver(saved: Partial<DrainOptions>, given: Partial<DrainOptions>): Partial<DrainOptions> {
  return { ...saved, ...definedOnly(given), migration: { ...saved.migration, ...definedOnly(given.migration ?? {}) } };
}

export interface UndrainOptions extends Omit<ResumeOptions, 'id'> {
  /** The drain to reverse. */
  id: string;
}

/** Moves every container a drain moved back to the host it came from, as a new drain (journalled: resumable). */
export async function undrain(o: UndrainOptions): Promise<DrainReport> {
  const dir = o.journalDir ?? defaultJournalDir();
  const original = DrainJournal.open(dir, o.id);
  const hosts = new Map(o.hosts.map((t) => [t.name, t]));
  const origin = hosts.get(original.header.from);
  if (!origin) throw new MigrateError('BAD_INPUT', `drain ${o.id} came from ${original.header.from}, which was not given`, { hint: `reach it as ${original.header.hosts[original.header.from] ?? original.header.from}` });
  const moved = [...original.moves().values()].filter((m) => m.done?.outcome === 'migrated' && m.done.runs_on === 'target' && m.done.to);
  const workRoot = o.migration?.workRoot ?? defaultWorkRoot();
  const byHost = new Map<string, Candidate[]>();
  for (const m of moved) {
    const at = hosts.get(m.done!.to!);
    if (!at) throw new MigrateError('BAD_INPUT', `container ${m.done!.name} is on ${m.done!.to}, which was not given`, { hint: `reach it as ${original.header.hosts[m.done!.to!] ?? m.done!.to}` });
    const list = byHost.get(at.name) ?? [];
    list.push(await movedOne(at, m.started!, m.done!, o.id, o.runcRoot ?? (original.header.options.runcRoot as string | undefined)));
    byHost.set(at.name, list);
  }
  const [originFacts] = await measureTargets([origin], imagesOf([...byHost.values()].flat()), workRoot);
  const options = givenOver(original.header.options as Partial<DrainOptions>, o);
  const moves: PlannedMove[] = [];
  const sources: NonNullable<DrainPlan['sources']> = [];
  for (const [host, list] of byHost) {
    const part = planDrain(list, [originFacts!], { strategy: options.migration?.strategy ?? 'auto', transferImage: true, order: 'given', sourceThroughput: await sourceThroughput(hosts.get(host)!) }, host);
    moves.push(...part.moves);
    sources.push(...part.sources!);
  }
  const parallel = options.parallel ?? 1;
  const plan: DrainPlan = { ...planDrain([], [originFacts!], { parallel }), moves, sources, est_total_ms: 0 };
  plan.est_total_ms = schedule(moves.filter((m) => m.to).map((m) => m.est_move_ms!), parallel);
  const journal = DrainJournal.create(dir, {
    id: `${o.id}-undrain-${newDrainId().slice(-6)}`, from: original.header.to[0] ?? origin.name, to: [origin.name],
    hosts: original.header.hosts, plan, options: journalled({ ...options, migration: { ...options.migration, force: true }, source: origin, targets: [origin] }), undrain_of: o.id,
  });
  (o.onEvent ?? noEvents)({ kind: 'drain', event: 'planned', id: journal.header.id, plan });
  // The named volumes the drain left behind on the origin are stale copies of what the containers
  // now hold: moving them back replaces their contents (force).
  const merged: DrainOptions = { ...options, migration: { ...options.migration, force: true }, parallel, source: origin, targets: [origin] };
  const report = await execute(merged, journal, hosts, new Map());
  return { ...report, undrain_of: o.id };
}

/** A workload a drain moved, as it runs now on `at`: a container by its name, a tree by its new root PID (from the report), a runc container by its ID. */
async function movedOne(at: Transport, started: NonNullable<MoveState['started']>, done: NonNullable<MoveState['done']>, id: string, runcRoot?: string): Promise<Candidate> {
  const gone = (what: string) => new MigrateError('PREFLIGHT', `${what} does not run on ${at.name}, where drain ${id} moved it`, { host: at.name, hint: 'find it, or leave it out of the undrain by moving it yourself' });
  const report = done.report as MigrationReport | undefined;
  if (report?.workload.kind === 'process-tree') {
    const pid = Number(/^pid (\d+)$/.exec(report.workload.target ?? '')?.[1]);
    const found = pid ? await selectTrees(at, [pid]).catch(() => []) : [];
    if (!found[0]) throw gone(done.name);
    return found[0];
  }
  if (report?.workload.kind === 'runc') {
    const found = await selectRunc(at, [started.id], runcRoot).catch(() => []);
    if (!found[0]) throw gone(done.name);
    return found[0];
  }
  const c = await findContainer(at, done.name);
  if (!c?.State.Running) throw gone(`container ${done.name}`);
  return { kind: 'docker', name: done.name, id: c.Id, image: c.Config.Image, rss: await residentBytes(at, c.Id) };
}

/** Every planned container's preflight (migrate's dry run) against its planned target. */
async function dryRun(o: DrainOptions, plan: DrainPlan): Promise<DrainReport> {
  const started = Date.now();
  const hosts = hostsOf(o);
  const move = o.move ?? moveWorkload;
  const containers: ContainerResult[] = [];
  for (const m of plan.moves) {
    const base = { name: m.name, from: m.from, to: m.to, strategy: m.strategy, est_freeze_ms: m.est_freeze_ms, freeze_ms: null, runs_on: 'source' as RunsOn };
    if (!m.to) {
      containers.push({ ...base, outcome: 'skipped', reason: m.skip });
      continue;
    }
    try {
      await move(m, { ...o.migration, runcRoot: o.runcRoot, source: hosts.get(m.from)!, target: hosts.get(m.to)!, dryRun: true, signal: o.signal } as MigrationOptions);
      containers.push({ ...base, outcome: 'ready' });
    } catch (e) {
      containers.push({ ...base, outcome: 'refused', reason: isMigrateError(e) ? e.reason : String(e), error: errorJson(e) });
    }
  }
  return { id: null, outcome: 'dry-run', plan, containers, totals: totals(containers, started) };
}

function totals(containers: ContainerResult[], started: number): DrainReport['totals'] {
  const count = (...o: ContainerOutcome[]) => containers.filter((c) => o.includes(c.outcome)).length;
  const freezes = containers.map((c) => c.freeze_ms).filter((f): f is number => f !== null);
  return {
    selected: containers.length, migrated: count('migrated'), failed: count('failed', 'rolled-back', 'refused'), skipped: count('skipped'),
    not_started: count('not-started'), max_freeze_ms: freezes.length ? Math.max(...freezes) : null, elapsed_ms: Date.now() - started,
  };
}

/**
 * Where a workload a dead controller left in flight is now: still on its source (stopped or
 * running: migrate's own recovery settles it), or already running on the target. A tree that is
 * gone from its source is "lost" to the drain (its new PID on the target is in no journal):
 * `migrate recover --pid` on the target's side tells.
 */
async function locate(m: PlannedMove, hosts: Map<string, Transport>, id: string, runcRoot?: string): Promise<'source' | 'target' | 'lost'> {
  const source = hosts.get(m.from)!;
  const target = m.to ? hosts.get(m.to) : undefined;
  if (m.kind === 'tree') return (await describeTree(source, Number(id))).pids.length > 0 ? 'source' : 'lost';
  if (m.kind === 'runc') {
    const root = runcRoot ?? DEFAULT_RUNC_ROOT;
    if (await runcState(source, root, id)) return 'source';
    return target && (await runcState(target, root, id))?.status === 'running' ? 'target' : 'lost';
  }
  if (await findContainer(source, id)) return 'source';
  const onTarget = target ? await findContainer(target, m.name) : undefined;
  if (onTarget?.State.Running && onTarget.Config.Labels?.[TWIN_LABEL] === id) return 'target';
  return 'lost';
}

/**
 * Runs a journalled plan: the moves not settled in `before` (the journal's state when resuming),
 * `parallel` at a time, under the drain's policy. Exported for the policy's unit tests.
 */
export async function execute(o: DrainOptions, journal: DrainJournal, hosts: Map<string, Transport>, before: Map<string, MoveState>): Promise<DrainReport> {
  const started = Date.now();
  const id = journal.header.id;
  const emit = o.onEvent ?? noEvents;
  const move = o.move ?? moveWorkload;
  const plan = journal.header.plan;
  const results = new Map<string, ContainerResult>();
  let stopped: string | undefined;
  const totalBytes = plan.moves.filter((m) => m.to).reduce((s, m) => s + m.rss, 0);
  let movedBytes = 0;

  const finish = (m: PlannedMove, r: Omit<ContainerResult, 'name' | 'from' | 'to' | 'strategy' | 'est_freeze_ms'>, journalIt = true) => {
    const result: ContainerResult = { name: m.name, from: m.from, to: m.to, strategy: r.report?.strategy ?? m.strategy, est_freeze_ms: m.est_freeze_ms, ...r };
    results.set(m.name, result);
    if (journalIt && result.outcome !== 'not-started') {
      journal.done({ name: m.name, outcome: result.outcome as MoveOutcome, runs_on: result.runs_on ?? 'source', to: m.to, freeze_ms: result.freeze_ms, report: result.report, error: result.error, reason: result.reason });
    }
    emit({ kind: 'drain', event: 'finished', id, name: m.name, outcome: result.outcome, runs_on: result.runs_on, freeze_ms: result.freeze_ms, reason: result.reason });
  };

  const queue: PlannedMove[] = [];
  for (const m of plan.moves) {
    const prior = before.get(m.name);
    if (prior?.done && (prior.done.outcome === 'migrated' || !m.to)) {
      // Settled in an earlier run of this drain: as journalled.
      results.set(m.name, { name: m.name, from: m.from, to: m.to, strategy: m.strategy, est_freeze_ms: m.est_freeze_ms, outcome: prior.done.outcome,
        runs_on: prior.done.runs_on, freeze_ms: prior.done.freeze_ms, reason: prior.done.reason, report: prior.done.report as MigrationReport | undefined });
      if (prior.done.outcome === 'migrated') movedBytes += m.rss;
    } else if (!m.to) finish(m, { outcome: 'skipped', runs_on: 'source', freeze_ms: null, reason: m.skip });
    else queue.push(m);
  }

  const stop = (why: string) => {
    if (stopped) return;
    stopped = why;
    emit({ kind: 'drain', event: 'stopping', id, reason: why });
  };

  const one = async (m: PlannedMove): Promise<void> => {
    const source = hosts.get(m.from)!;
    const target = hosts.get(m.to!)!;
    const prior = before.get(m.name);
    const env = { MIGRATE_DRAIN_ID: id, MIGRATE_CONTAINER: m.name, MIGRATE_FROM: source.name, MIGRATE_TO: target.name };
    if (prior?.started && !prior.done) {
      // In flight when the controller died: moved already, or still on its source.
      const where = await locate(m, hosts, prior.started.id, o.runcRoot);
      if (where === 'target') {
        finish(m, { outcome: 'migrated', runs_on: 'target', freeze_ms: null, reason: 'found running on the target when the drain was resumed' });
        movedBytes += m.rss;
        return;
      }
      if (where === 'lost') {
        finish(m, { outcome: 'failed', runs_on: 'unknown', freeze_ms: null, reason: `neither on ${source.name} nor running on ${target.name}: see migrate recover` });
        if (!o.keepGoing) stop(`${m.name} could not be found`);
        return;
      }
    }
    if (o.before) {
      const hook = await runHook(o.before, { ...process.env, ...env, MIGRATE_HOOK: 'before' } as Record<string, string>);
      if (!hook.ok) {
        finish(m, { outcome: 'skipped', runs_on: 'source', freeze_ms: null, reason: `--before failed (exit ${hook.exitCode ?? '?'}): ${hook.output}` });
        return;
      }
    }
    journal.start(m.name, m.id, source.name, target.name);
    emit({ kind: 'drain', event: 'started', id, name: m.name, from: source.name, to: target.name });
    let result: Omit<ContainerResult, 'name' | 'from' | 'to' | 'strategy' | 'est_freeze_ms'>;
    try {
      const report = await move(m, {
        ...o.migration, runcRoot: o.runcRoot, source, target, signal: o.signal, onEvent: (e) => emit({ ...e, workload: m.name }),
      } as MigrationOptions);
      result = { outcome: report.outcome === 'migrated' ? 'migrated' : 'rolled-back', runs_on: report.runs_on, freeze_ms: report.freeze_ms, report, reason: report.error ? String(report.error.message) : undefined };
    } catch (e) {
      result = { outcome: 'failed', runs_on: (isMigrateError(e) && e.runsOn) || 'source', freeze_ms: null, reason: isMigrateError(e) ? e.reason : String(e), error: errorJson(e) };
    }
    finish(m, result);
    if (result.outcome === 'migrated') {
      movedBytes += m.rss;
      emit({ kind: 'progress', what: 'drain', bytes: movedBytes, total: totalBytes, done: movedBytes >= totalBytes });
    } else if (!o.keepGoing) stop(`${m.name} failed: ${result.reason ?? result.outcome}`);
    if (o.after) {
      const hook = await runHook(o.after, {
        ...process.env, ...env, MIGRATE_HOOK: 'after', MIGRATE_OUTCOME: result.outcome, MIGRATE_RUNS_ON: String(result.runs_on),
        MIGRATE_FREEZE_MS: String(result.freeze_ms ?? ''), MIGRATE_REPORT: JSON.stringify(result.report ?? { error: result.error }),
      } as Record<string, string>);
      if (!hook.ok) emit({ kind: 'warning', message: `--after failed for ${m.name} (exit ${hook.exitCode ?? '?'}): ${hook.output}`, workload: m.name });
    }
  };

  emit({ kind: 'progress', what: 'drain', bytes: movedBytes, total: totalBytes });
  const workers = Array.from({ length: Math.max(1, o.parallel ?? plan.parallel) }, async () => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      if (o.signal?.aborted) stop('interrupted');
      else if (o.deadline !== undefined && Date.now() >= o.deadline) stop(`the deadline ${new Date(o.deadline).toISOString()} passed`);
      if (stopped) {
        finish(m, { outcome: 'not-started', runs_on: 'source', freeze_ms: null, reason: `not started: ${stopped}` }, false);
        continue;
      }
      await one(m);
    }
  });
  await Promise.all(workers);
  const containers = plan.moves.map((m) => results.get(m.name)!).filter(Boolean);
  const t = totals(containers, started);
  const outcome: DrainReport['outcome'] = t.migrated === containers.length ? 'drained' : t.migrated > 0 ? 'partial' : 'failed';
  if (!stopped && t.not_started === 0) journal.end(outcome);
  return { id, outcome, plan, containers, totals: t, ...(stopped ? { stopped } : {}), ...(journal.header.undrain_of ? { undrain_of: journal.header.undrain_of } : {}) };
}
