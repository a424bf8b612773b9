/**
 * Cold migration vs Docker's documented checkpoint workflow: how long is a container holding
 * N MiB of incompressible memory frozen while it moves from lab host A (local) to host B (SSH)?
 * Both ways are measured in the same run and lab, round-robin per size so load drift hits both.
 *
 * - baseline: `docker create` the twin on B (before the freeze), then `docker checkpoint create`
 *   on A → `tar | zstd -1 | ssh B 'zstd -d | tar -x'` (the OpenSSH binary, a new connection)
 *   into the twin's `checkpoints/cp` under B's data-root → `docker start --checkpoint cp` on B.
 *   runc.conf on both hosts is checked and held under migrate's lock for the whole run, so no
 *   migrate override can speed it up.
 * - migrate: the library's `migrate()` (keepSource, so A's log survives for the tick check):
 *   the default (memory pages to a page server on B during the dump, lazy restore), eager
 *   restore, and dump-then-stream with eager restore. More strategies are more rows:
 *   `migrateRow(name, hosts, extraOptions)`.
 *
 * Each run starts a fresh `bench-*` container on A (`memload --mib N --tick-ms 1`), waits for
 * `tick 5`, moves it, checks on B that the ticks go on with the next number, and removes it on
 * both hosts. Freeze is reported twice: by the controller (just before the checkpoint until
 * `docker inspect` on B says running) and by the workload (the largest gap between consecutive
 * `tick <n> <CLOCK_REALTIME µs>` lines across A's and B's logs). Disagreements are kept as is.
 *
 * The baseline, the lab, host facts and the tick reading are shared with the matrix
 * (bench/matrix.ts) in bench/lib/.
 *
 * Run: npm run bench:cold [-- --sizes 64,256 --runs 3 | --quick] [--out DIR]   (default 64,256,1024 MiB × 3)
 * Needs the lab (bash lab/lab.sh up). Writes bench/results/cold-vs-docker.{json,md} and prints
 * PASS/FAIL for the target: at 1024 MiB, migrate's median freeze ≤ 1/10 of the baseline's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorJson, migrate, type DockerOptions, type MigrationOptions, type MigrationReport, type Transport } from '../src/index.js';
import { BASELINE, dockerBaselineMove, dockerRoot, type BaselineHosts, type Move as BaselineMove } from './lib/docker-baseline.js';
import { fail } from './lib/fail.js';
import { cell as mdCell, sec, spreadCells } from './lib/format.js';
import { commandLine, factsMarkdown, hostFacts, loadavg, type HostFacts } from './lib/host-facts.js';
import { labHosts, ROOT } from './lib/lab.js';
import { waitForTicks } from './lib/memload.js';
import { containerArgs, containerTicks, removeContainer } from './lib/memload-container.js';
import { median, spreadOf } from './lib/stats.js';
import { workloadView, type WorkloadView } from './lib/workload-view.js';

const TARGET_MIB = 1024;
const TARGET_RATIO = 0.1;

type Hosts = BaselineHosts;
type Phases = Record<string, number>;
/** What a row did to move the container: controller-side figures. */
interface Move extends BaselineMove { report?: MigrationReport }
interface Row { name: string; run: (container: string, mib: number) => Promise<Move> }
interface RunRecord extends Partial<Move> {
  sizeMib: number; row: string; run: number; container: string; loadavg: string;
  moved: boolean; workload?: WorkloadView; error?: Record<string, unknown>;
}
interface Options { sizes: number[]; runs: number; outDir: string; argv: string[] }
interface Meta extends HostFacts { command: string; sizesMib: number[]; runsPerSize: number; workload: string; loadavgBefore: string; loadavgAfter: string }

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string' }, runs: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' } } });
  const sizes = (values.sizes ?? (values.quick ? '64,256' : '64,256,1024')).split(',').map(Number);
  const runs = Number(values.runs ?? (values.quick ? 1 : 3));
  if (!sizes.every((s) => Number.isInteger(s) && s > 0)) fail(`--sizes wants MiB like 64,256, got ${values.sizes}`);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs wants a positive integer, got ${values.runs}`);
  return { sizes, runs, outDir: values.out ?? join(ROOT, 'bench/results'), argv };
}

/** `docker run`/`docker create` arguments of the workload: the same on A and for B's twin. */
const workloadArgs = (h: Hosts, name: string, mib: number): string[] => containerArgs(h.lab.image, name, { mib, tickMs: 1 });

// ---------------------------------------------------------------- the rows

function dockerBaseline(h: Hosts): Row {
  return { name: BASELINE, run: (container, mib) => dockerBaselineMove(h, container, workloadArgs(h, container, mib)) };
}

type ExtraOptions = Partial<Omit<MigrationOptions & DockerOptions, 'container' | 'source' | 'target'>>;

function migrateRow(name: string, h: Hosts, extra: ExtraOptions = {}): Row {
  return {
    name,
    run: async (container) => {
      // This bench compares cold migration with Docker's workflow: the strategy is fixed, not auto.
      const t0 = performance.now();
      const report = await migrate({ container, source: h.a, target: h.b, keepSource: true, strategy: 'cold', ...extra });
      if (report.outcome !== 'migrated' || report.freeze_ms === null) fail(`migrate ended ${report.outcome}: ${JSON.stringify(report.error)}`);
      return { freeze_ms: report.freeze_ms!, total_ms: Math.round(performance.now() - t0), phases_ms: { ...report.phases_ms }, bytes: report.bytes, report };
    },
  };
}

// ---------------------------------------------------------------- the workload's view

const logs = containerTicks;
const waitFor = (t: Transport, name: string, count: number, timeoutMs: number) => waitForTicks(() => logs(t, name), count, timeoutMs, `${name} on ${t.name}`);

// ---------------------------------------------------------------- one run, all runs

let seq = 0;

async function runOnce(h: Hosts, row: Row, mib: number, run: number): Promise<RunRecord> {
  const container = `bench-${process.pid}-${++seq}`;
  const rec: RunRecord = { sizeMib: mib, row: row.name, run, container, loadavg: loadavg(), moved: false };
  try {
    await h.a.exec(['docker', 'run', '-d', ...workloadArgs(h, container, mib)]);
    await waitFor(h.a, container, 5, 120_000);
    Object.assign(rec, await row.run(container, mib), { moved: true });
    await waitFor(h.b, container, 20, 10_000);
    rec.workload = workloadView(await logs(h.a, container), await logs(h.b, container));
  } catch (e) {
    rec.error = errorJson(e);
  } finally {
    await removeContainer(container, h.a, h.b);
  }
  return rec;
}

function describe(r: RunRecord): string {
  const head = `${r.sizeMib} MiB run ${r.run} ${r.row}:`;
  if (!r.moved || !r.workload) return `${head} FAILED ${String(r.error?.message ?? '').split('\n')[0]}`;
  const phases = Object.entries(r.phases_ms ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  return `${head} freeze ${r.freeze_ms} ms (${phases}); workload gap ${r.workload.maxGapMs} ms; ticks ${r.workload.continues ? 'continue' : 'DO NOT continue'} (${r.workload.lastTickA} → ${r.workload.firstTickB})`;
}

/** Round-robin per size: run 1 of every row, then run 2 of every row, ... */
async function measure(h: Hosts, rows: Row[], o: Options): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (const mib of o.sizes) {
    for (let run = 1; run <= o.runs; run++) {
      for (const row of rows) {
        const r = await runOnce(h, row, mib, run);
        console.error(describe(r));
        records.push(r);
      }
    }
  }
  return records;
}

// ---------------------------------------------------------------- report

const spread = (xs: number[]): string => spreadCells(spreadOf(xs));

interface Cell { freezes: number[]; gaps: number[]; phases: Phases[]; runs: number; verified: number }

function cell(records: RunRecord[], mib: number, row: string): Cell {
  const mine = records.filter((r) => r.sizeMib === mib && r.row === row);
  const moved = mine.filter((r) => r.moved && r.workload);
  return {
    freezes: moved.map((r) => r.freeze_ms!), gaps: moved.map((r) => r.workload!.maxGapMs), phases: moved.map((r) => r.phases_ms!),
    runs: mine.length, verified: moved.filter((r) => r.workload!.continues).length,
  };
}

function freezePhases(phases: Phases[]): string {
  if (!phases.length) return '–';
  return ['checkpoint', 'transfer', 'restore'].map((k) => sec(median(phases.map((p) => p[k] ?? NaN)))).join(' / ');
}

/** Lazy restore: how long after the freeze the last page was in place (median s). */
function fill(phases: Phases[]): string {
  const xs = phases.map((p) => p.fill).filter((x): x is number => x !== undefined);
  return xs.length ? sec(median(xs)) : '–';
}

function ratio(c: Cell, base: Cell): string {
  if (!c.freezes.length || !base.freezes.length) return '–';
  const r = median(c.freezes) / median(base.freezes);
  return `${r.toFixed(3)} (1/${(1 / r).toFixed(1)})`;
}

function table(records: RunRecord[], rows: string[], sizes: number[]): string {
  const lines = [
    '| Size MiB | Strategy | Moved / verified / runs | Freeze median s | Min s | Max s | Median vs baseline | Workload view median s | Min s | Max s | Phases median s: checkpoint / transfer / restore | Memory filled in after the freeze, median s |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const mib of sizes) {
    const base = cell(records, mib, rows[0]!);
    for (const row of rows) {
      const c = cell(records, mib, row);
      lines.push(`| ${mib} | ${mdCell(row)} | ${c.freezes.length} / ${c.verified} / ${c.runs} | ${spread(c.freezes)} | ${row === rows[0] ? '1' : ratio(c, base)} | ${spread(c.gaps)} | ${freezePhases(c.phases)} | ${fill(c.phases)} |`);
    }
  }
  return lines.join('\n');
}

function target(records: RunRecord[], rows: string[]): string {
  const line = `Target: at ${TARGET_MIB} MiB migrate's median freeze ≤ ${TARGET_RATIO} × the baseline's`;
  const base = cell(records, TARGET_MIB, rows[0]!);
  const mine = cell(records, TARGET_MIB, rows[1]!);
  if (!base.freezes.length || !mine.freezes.length) return `${line}: NOT MEASURED (no successful ${TARGET_MIB} MiB runs of both)`;
  const r = median(mine.freezes) / median(base.freezes);
  const w = median(mine.gaps) / median(base.gaps);
  return `${line}: ${r <= TARGET_RATIO ? 'PASS' : 'FAIL'} — controller ${sec(median(mine.freezes))} s vs ${sec(median(base.freezes))} s (ratio ${r.toFixed(3)}); workload view ratio ${w.toFixed(3)}`;
}

function write(dir: string, m: Meta, records: RunRecord[], rows: string[], sizes: number[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cold-vs-docker.json'), JSON.stringify({ ...m, rows, runs: records }, null, 2) + '\n');
  const header = `# Cold migration vs Docker's checkpoint workflow: freeze time\n\n${factsMarkdown(m.command, m)}\n`;
  const input = `Workload: \`${m.workload}\`, a fresh container per run, moved from host A (local) to host B (SSH) once it printed \`tick 5\`; runs round-robin per size. `
    + 'Controller freeze: just before `docker checkpoint create` until `docker inspect` on B says running. '
    + 'Workload view: the largest gap between consecutive tick timestamps (CLOCK_REALTIME) across A\'s and B\'s logs. '
    + '"Verified" = the first tick on B is the last tick on A + 1. Failed runs are in the JSON and not in the figures.\n\n';
  const failed = records.filter((r) => !r.moved || !r.workload || !r.workload.continues).map((r) => `- ${describe(r)}`);
  const notes = '\n\nBaseline: the twin is `docker create`d on B and both hosts\' runc.conf are held under migrate\'s lock before the freeze; '
    + 'the pipe is `tar | zstd -1 | ssh` with OpenSSH\'s default cipher and a new connection (its setup is inside the freeze); '
    + 'B\'s docker commands go through the same ssh2 connection migrate uses. '
    + 'Migrate rows: phases are the library report\'s `phases_ms` (its `pages` mode is in the JSON; with `page-server` the memory crosses the link during the checkpoint phase). '
    + `Load average before/after: ${m.loadavgBefore} / ${m.loadavgAfter}.\n`
    + (failed.length ? `\nRuns that failed or did not verify:\n${failed.join('\n')}\n` : '');
  const md = table(records, rows, sizes);
  writeFileSync(join(dir, 'cold-vs-docker.md'), header + input + md + '\n\n' + target(records, rows) + notes);
  return md;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const { lab, a, b } = labHosts();
  try {
    const h: Hosts = { lab, a, b, rootA: await dockerRoot(a), rootB: await dockerRoot(b) };
    const rows = [
      dockerBaseline(h),
      migrateRow('migrate (default: page server, lazy restore)', h),
      migrateRow('migrate --restore eager', h, { restore: 'eager' }),
      migrateRow('migrate --pages stream --restore eager', h, { pages: 'stream', restore: 'eager' }),
    ];
    const facts = await hostFacts(a, b);
    const loadavgBefore = loadavg();
    const records = await measure(h, rows, o);
    const names = rows.map((r) => r.name);
    const meta: Meta = {
      command: commandLine('bench:cold', 'dist/bench/cold-vs-docker.js', o.argv), ...facts, sizesMib: o.sizes, runsPerSize: o.runs,
      workload: `docker run -d --security-opt seccomp=unconfined ${lab.image} --mib N --tick-ms 1`, loadavgBefore, loadavgAfter: loadavg(),
    };
    console.log(write(o.outDir, meta, records, names, o.sizes));
    console.log(target(records, names));
    if (records.some((r) => !r.moved || !r.workload?.continues)) process.exitCode = 1;
  } finally {
    await b.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
