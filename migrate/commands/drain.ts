/**
 * `migrate drain --to HOST[,HOST…]`: empties a host of its running containers (or those
 * --select matches) following a plan; `migrate drain --resume ID` continues one whose
 * controller died; `migrate undrain ID` moves them all back. Exit 0 only when every selected
 * container moved (a dry run: when every preflight passed).
 */
import { parseArgs } from 'node:util';
import {
  DRAIN_ORDERS, MigrateError, STRATEGIES, TCP_POLICIES, drain, openDrainJournal, openTransport, resumeDrain, undrain,
  type DrainEvent, type DrainOrder, type DrainReport, type MigrateEvent, type PageTransport, type Strategy, type TcpPolicy, type Transport,
} from '../../src/index.js';
import { SSH_FLAGS, sshOptions } from '../ssh-options.js';
import { pageChannelOf, pageForwarderOf, prefetchOf } from '../mode-flags.js';
import type { Output } from '../output.js';
import { PROGRESS_MODES, type ProgressMode } from '../progress-view.js';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const FLAGS = {
  to: { type: 'string' }, from: { type: 'string' }, select: { type: 'string', multiple: true }, parallel: { type: 'string' },
  pids: { type: 'string' }, runc: { type: 'string' }, 'runc-root': { type: 'string' },
  order: { type: 'string' }, 'max-freeze': { type: 'string' }, deadline: { type: 'string' }, 'keep-going': { type: 'boolean' },
  before: { type: 'string' }, after: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, progress: { type: 'string' },
  resume: { type: 'string' }, 'transfer-image': { type: 'boolean' }, strategy: { type: 'string' }, tcp: { type: 'string' }, pages: { type: 'string' }, 'page-channel': { type: 'string' }, prefetch: { type: 'string' }, 'page-forwarder': { type: 'string' },
  'zstd-level': { type: 'string' }, yes: { type: 'boolean', short: 'y' }, ...SSH_FLAGS,
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
}

function int(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) throw new MigrateError('BAD_INPUT', `Expected --${flag} to be an integer ≥ ${min}, got \`${v}\``);
  return x;
}

/** `--deadline`: a time (2026-12-01T14:00, ISO 8601) or a duration from now (90s, 30m, 2h). */
export function parseDeadline(v: string, now = Date.now()): number {
  const d = /^(\d+)(s|m|h)$/.exec(v);
  if (d) return now + Number(d[1]) * { s: 1e3, m: 60e3, h: 3600e3 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new MigrateError('BAD_INPUT', `Expected --deadline to be a time (2026-12-01T14:00) or a duration (30m, 2h), got \`${v}\``);
  return t;
}

/** The options every container's migration gets. */
function migrationOptions(values: Values) {
  const strategy = values.strategy as Strategy | 'auto' | undefined;
  if (strategy !== undefined && strategy !== 'auto' && !STRATEGIES.includes(strategy)) throw new MigrateError('BAD_INPUT', `Expected --strategy to be auto or one of ${STRATEGIES.join(', ')}, got \`${values.strategy}\``);
  const tcp = values.tcp as TcpPolicy | undefined;
  if (tcp !== undefined && !TCP_POLICIES.includes(tcp)) throw new MigrateError('BAD_INPUT', `Expected --tcp to be one of ${TCP_POLICIES.join(', ')}, got \`${values.tcp}\``);
  const pages = values.pages as PageTransport | undefined;
  if (pages !== undefined && pages !== 'page-server' && pages !== 'stream') throw new MigrateError('BAD_INPUT', `Expected --pages to be page-server or stream, got \`${values.pages}\``);
  const zstdLevel = int(values['zstd-level'], 'zstd-level', 1);
  const pageChannel = pageChannelOf(values['page-channel']);
  const prefetch = prefetchOf(values.prefetch);
  const pageForwarder = pageForwarderOf(values['page-forwarder']);
  // Only what is given: a resume or an undrain keeps the drain's own for the rest (its journal).
  return {
    ...(strategy ? { strategy } : {}), ...(tcp ? { tcp } : {}), ...(pages ? { pages } : {}), ...(pageChannel ? { pageChannel } : {}), ...(prefetch ? { prefetch } : {}), ...(pageForwarder ? { pageForwarder } : {}), ...(zstdLevel ? { zstdLevel } : {}),
    ...(values['transfer-image'] ? { transferImage: true } : {}),
  };
}

/** How the drain reaches each host again (--resume, undrain): the URL by transport name. */
const urlOf = (t: Transport, url: string | undefined): [string, string] => [t.name, url ?? 'local'];

export async function drainCommand(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parse(argv);
  if (positionals.length > 0) throw new MigrateError('BAD_INPUT', `drain takes no container names (got ${positionals.join(' ')})`, { hint: 'select containers with --select name=NAME or --select label=KEY=VALUE' });
  if (values.resume === undefined && !values.to) throw new MigrateError('BAD_INPUT', 'drain needs target hosts', { hint: 'add --to ssh://root@HOST[,ssh://root@HOST2]' });
  if (values.resume !== undefined) {
    for (const f of ['to', 'from', 'select', 'pids', 'runc', 'order', 'max-freeze', 'dry-run'] as const) {
      if (values[f] !== undefined) throw new MigrateError('BAD_INPUT', `--${f} cannot change a drain being resumed (its plan is in its journal)`);
    }
  }
  const pids = values.pids?.split(',').filter(Boolean).map((p) => {
    const pid = Number(p);
    if (!Number.isInteger(pid) || pid < 1) throw new MigrateError('BAD_INPUT', `Expected --pids to be process IDs separated by commas, got \`${values.pids}\``);
    return pid;
  });
  const runc = values.runc?.split(',').filter(Boolean);
  for (const id of runc ?? []) if (!/^[\w][\w+.-]*$/.test(id)) throw new MigrateError('BAD_INPUT', `Expected --runc to be runc container IDs separated by commas, got \`${values.runc}\``);
  const order = values.order as DrainOrder | undefined;
  if (order !== undefined && !DRAIN_ORDERS.includes(order)) throw new MigrateError('BAD_INPUT', `Expected --order to be one of ${DRAIN_ORDERS.join(', ')}, got \`${values.order}\``);
  setUp(values, out);
  const ssh = sshOptions(values);
  const policy = {
    parallel: int(values.parallel, 'parallel', 1), keepGoing: values['keep-going'], before: values.before, after: values.after,
    deadline: values.deadline === undefined ? undefined : parseDeadline(values.deadline), maxFreezeMs: int(values['max-freeze'], 'max-freeze', 0),
  };
  const opened: Transport[] = [];
  const open = (url: string | undefined) => {
    const t = openTransport(url === 'local' ? undefined : url, ssh, (m) => out.warn(m));
    opened.push(t);
    return t;
  };
  return withSignals(out, opened, async (signal) => {
    if (values.resume !== undefined) {
      const header = openDrainJournal(values.resume).header;
      const involved = new Set(header.plan.moves.flatMap((m) => (m.to ? [m.from, m.to] : [m.from])));
      const hosts = [...involved].map((h) => open(header.hosts[h] ?? hostUnknown(h, values.resume!)));
      return resumeDrain({ id: values.resume, hosts, ...policy, migration: migrationOptions(values), signal, onEvent: shown(out) });
    }
    const source = open(values.from);
    const targetUrls = values.to!.split(',').filter(Boolean);
    const targets = targetUrls.map(open);
    return drain({
      source, targets, select: values.select, pids, runc, runcRoot: values['runc-root'], order, dryRun: values['dry-run'], ...policy, migration: migrationOptions(values), signal,
      hostUrls: Object.fromEntries([urlOf(source, values.from), ...targets.map((t, i) => urlOf(t, targetUrls[i]))]),
      onEvent: shown(out),
    });
  });
}

export async function undrainCommand(argv: string[], out: Output): Promise<number> {
  const { values, positionals } = parse(argv);
  if (positionals.length !== 1) throw new MigrateError('BAD_INPUT', 'undrain needs the ID of one drain', { hint: 'migrate undrain DRAIN_ID (printed by migrate drain; the journals are in /var/lib/migrate/drains)' });
  for (const f of ['to', 'from', 'select', 'pids', 'runc', 'order', 'max-freeze', 'dry-run', 'resume'] as const) {
    if (values[f] !== undefined) throw new MigrateError('BAD_INPUT', `--${f} does not apply to undrain: every container goes back where the drain took it from`);
  }
  setUp(values, out);
  const id = positionals[0]!;
  const header = openDrainJournal(id).header;
  const ssh = sshOptions(values);
  const opened: Transport[] = [];
  // Every host a container was moved to, and where they all came from.
  const names = [...new Set([header.from, ...header.plan.moves.flatMap((m) => (m.to ? [m.to] : []))])];
  return withSignals(out, opened, async (signal) => {
    const hosts = names.map((h) => {
      const url = header.hosts[h] ?? hostUnknown(h, id);
      const t = openTransport(url === 'local' ? undefined : url, ssh, (m) => out.warn(m));
      opened.push(t);
      return t;
    });
    return undrain({
      id, hosts, parallel: int(values.parallel, 'parallel', 1), keepGoing: values['keep-going'], before: values.before, after: values.after,
      migration: migrationOptions(values), signal, onEvent: shown(out),
    });
  });
}

/** Events to the output; the plan as a table first (not with --json, whose result holds it). */
function shown(out: Output) {
  return (e: DrainEvent | (MigrateEvent & { workload?: string })) => {
    if (e.kind === 'drain' && e.event === 'planned' && !out.json && e.id !== null) out.note(formatPlan(e.plan));
    out.drainEvent(e);
  };
}

function hostUnknown(name: string, id: string): never {
  throw new MigrateError('BAD_INPUT', `drain ${id} does not record how to reach ${name}`, { hint: 'it was started through the library without hostUrls: resume it from a script' });
}

function setUp(values: Values, out: Output): void {
  out.json = values.json ?? false;
  if (values.progress !== undefined) {
    if (!(PROGRESS_MODES as readonly string[]).includes(values.progress)) throw new MigrateError('BAD_INPUT', `Expected --progress to be one of ${PROGRESS_MODES.join(', ')}, got \`${values.progress}\``);
    out.progressMode = values.progress as ProgressMode;
  }
}

/** Runs the drain with Ctrl-C and friends stopping new moves (a move in progress finishes or rolls back), then reports. */
async function withSignals(out: Output, opened: Transport[], run: (signal: AbortSignal) => Promise<DrainReport>): Promise<number> {
  const abort = new AbortController();
  const onSignal = (s: NodeJS.Signals) => {
    if (!abort.signal.aborted) out.warn(`interrupted (${s}): no further container starts; the one moving is finished or put back`);
    abort.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    const report = await run(abort.signal);
    if (out.json) out.result(report);
    else out.text(formatDrain(report));
    return report.outcome === 'drained' || (report.outcome === 'dry-run' && report.containers.every((c) => c.outcome === 'ready')) ? 0 : 1;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await Promise.all(opened.map((t) => t.close()));
  }
}

const ms = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${x} ms`);
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

/** The plan, as `--dry-run` and the start of a drain show it. */
export function formatPlan(p: DrainReport['plan']): string {
  const rows = [['container', 'memory', 'to', 'strategy', 'est. freeze', 'note'],
    ...p.moves.map((m) => [m.name, mib(m.rss), m.to ?? '-', m.strategy ?? '-', ms(m.est_freeze_ms), m.skip ?? ''])];
  const from = (p.sources ?? []).map((s) => `from ${s.host} ${s.throughput_mb_s === null ? '(this machine)' : `${s.throughput_mb_s} MB/s`}`);
  const links = [...from, ...p.targets.map((t) => `${t.host} ${t.throughput_mb_s} MB/s, ${mib(t.memory_free)} free`)].join('; ');
  return [`plan (${p.order} first, ${p.parallel} at a time; ${links}): about ${(p.est_total_ms / 1000).toFixed(1)} s`, ...table(rows).map((l) => `  ${l}`)].join('\n');
}

export function formatDrain(r: DrainReport): string {
  const rows = [['container', 'from', 'to', 'strategy', 'freeze', 'outcome'],
    ...r.containers.map((c) => [c.name, c.from, c.to ?? '-', c.strategy ?? '-', c.outcome === 'ready' || c.outcome === 'refused' ? `est. ${ms(c.est_freeze_ms)}` : ms(c.freeze_ms),
      `${c.outcome}${c.runs_on && c.outcome !== 'migrated' && c.outcome !== 'ready' ? ` (runs on the ${c.runs_on})` : ''}${c.reason ? `: ${c.reason.split('\n')[0]}` : ''}`])];
  const t = r.totals;
  const head = r.outcome === 'dry-run'
    ? `dry run: ${r.containers.filter((c) => c.outcome === 'ready').length} of ${t.selected} containers passed preflight; nothing was frozen`
    : `drain ${r.id}: ${r.outcome} — ${t.migrated} of ${t.selected} moved, ${t.failed} failed, ${t.skipped} skipped, ${t.not_started} not started` +
      `, longest freeze ${ms(t.max_freeze_ms)}, ${(t.elapsed_ms / 1000).toFixed(1)} s`;
  const lines = [head, ...(r.outcome === 'dry-run' ? [formatPlan(r.plan)] : []), ...table(rows).map((l) => `  ${l}`)];
  if (r.stopped) lines.push(`  stopped    ${r.stopped}; migrate drain --resume ${r.id} continues`);
  else if (r.id && r.outcome !== 'drained') lines.push(`  resume     migrate drain --resume ${r.id}`);
  if (r.id && r.outcome !== 'failed' && !r.undrain_of) lines.push(`  undo       migrate undrain ${r.id}`);
  return lines.join('\n');
}

export type { DrainEvent, MigrateEvent };
