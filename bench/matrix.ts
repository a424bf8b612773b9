/**
 * The migration matrix (issue #6): freeze time and what surrounds it, for memload holding N MiB
 * and dirtying D MiB/s, as a Docker container and as a process tree, moved from lab host A to
 * host B by Docker's documented workflow (the baseline, containers only) and by migrate's
 * strategies (lib/matrix-rows.ts). Every run starts a fresh workload, moves it, checks that its
 * ticks go on with the next number on B, and removes it from both hosts (lib/matrix-run.ts).
 * The controller's freeze and the workload's own view are reported side by side, with their
 * difference per run; disagreements are listed, not smoothed.
 *
 * Run: npm run bench [-- --quick | --sizes 64,256 --dirty 0,10 --baseline-dirty 0|all --runs 3 --kinds docker,tree --rows baseline,cold,postcopy --no-pipeline --out DIR]
 * Needs the lab (bash lab/lab.sh up), and the lab to itself (other lab users would skew it).
 * Writes bench/results/matrix.{json,md,svg} and, unless --no-pipeline, pipeline.{json,md}
 * (bench/pipeline.ts). Exit code 1 when any run failed or did not verify.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorJson } from '../src/index.js';
import { prefetchOf } from '../migrate/mode-flags.js';
import { dockerRoot, type BaselineHosts } from './lib/docker-baseline.js';
import { OVERHEAD_S, PIPELINE_S, runSeconds } from './lib/estimate.js';
import { fail } from './lib/fail.js';
import { freezeChartSpec, renderSvg } from './lib/freeze-chart.js';
import { commandLine, factsMarkdown, hostFacts, loadavg } from './lib/host-facts.js';
import { labHosts, ROOT } from './lib/lab.js';
import { chartPoints, markdown, summarize, table, type MatrixMeta, type Plan, type PlannedRow } from './lib/matrix-report.js';
import { ROWS, rowOptions, type Row, type RowId } from './lib/matrix-rows.js';
import { describe, runOnce, troubled, type RunRecord } from './lib/matrix-run.js';
import type { Case, Kind } from './lib/matrix-subjects.js';
import { pipelineBench, verdict } from './lib/pipeline-bench.js';

/**
 * The full matrix's defaults must fit in 45 minutes on this 2-vCPU lab (lib/estimate.ts). All
 * three sizes at three runs each cost ~6 minutes per dirty rate, most of it the baseline at
 * 1 GiB (~97 s a run). The baseline is stop-and-copy, so its freeze does not depend on the dirty
 * rate: it runs at 0 MiB/s only (`--baseline-dirty`), and all three rates fit. --quick is a
 * smoke check of every row in a few minutes.
 */
const FULL = { sizes: [64, 256, 1024], dirty: [0, 10, 50], baselineDirty: [0] as number[] | undefined, runs: 3 };
/** The budget the full default must fit (issue #6). */
const BUDGET_S = 45 * 60;
const QUICK = { sizes: [64], dirty: [0, 10], baselineDirty: undefined as number[] | undefined, runs: 1 };
const KINDS: Kind[] = ['docker', 'tree'];
const PIPELINE_MIB = 256;

interface Options extends Plan { rowIds?: RowId[]; outDir: string; argv: string[] }

const list = (text: string | undefined, what: string): number[] | undefined => {
  if (text === undefined) return undefined;
  const xs = text.split(',').map(Number);
  return xs.every((x) => Number.isFinite(x) && x >= 0) ? xs : fail(`--${what} wants numbers like 0,10, got ${text}`);
};

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' }, sizes: { type: 'string' }, dirty: { type: 'string' }, runs: { type: 'string' },
      kinds: { type: 'string' }, rows: { type: 'string' }, 'no-pipeline': { type: 'boolean' }, out: { type: 'string' },
      'baseline-dirty': { type: 'string' }, prefetch: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const d = quick ? QUICK : FULL;
  const prefetch = prefetchOf(values.prefetch);
  if (prefetch) rowOptions.prefetch = prefetch; // post-copy rows with (auto) or without the prefetcher
  const sizes = list(values.sizes, 'sizes') ?? d.sizes;
  const dirty = list(values.dirty, 'dirty') ?? d.dirty;
  const baselineDirty = values['baseline-dirty'] === 'all' ? undefined : list(values['baseline-dirty'], 'baseline-dirty') ?? d.baselineDirty;
  if (baselineDirty && !baselineDirty.some((x) => dirty.includes(x))) fail(`--baseline-dirty ${baselineDirty.join(',')} names no rate of --dirty ${dirty.join(',')}`);
  const runs = Number(values.runs ?? d.runs);
  const kinds = (values.kinds?.split(',') ?? KINDS) as Kind[];
  const rowIds = values.rows?.split(',') as RowId[] | undefined;
  if (!sizes.every((s) => Number.isInteger(s) && s > 0)) fail(`--sizes wants MiB like 64,256, got ${values.sizes}`);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs wants a positive integer, got ${values.runs}`);
  if (!kinds.every((k) => KINDS.includes(k))) fail(`--kinds wants ${KINDS.join(',')}, got ${values.kinds}`);
  if (rowIds && !rowIds.every((r) => ROWS.some((x) => x.id === r))) fail(`--rows wants some of ${[...new Set(ROWS.map((r) => r.id))].join(',')}, got ${values.rows}`);
  return { quick, sizes, dirty, baselineDirty: baselineDirty?.filter((x) => dirty.includes(x)), runs, kinds, rowIds, pipeline: !values['no-pipeline'], outDir: values.out ?? join(ROOT, 'bench/results'), argv };
}

/** The rows this run measures, and those that cannot run between these hosts (with why). */
async function planRows(h: BaselineHosts, o: Options): Promise<{ rows: Row[]; planned: PlannedRow[] }> {
  const rows: Row[] = [];
  const planned: PlannedRow[] = [];
  for (const row of ROWS.filter((r) => o.kinds.includes(r.kind) && (!o.rowIds || o.rowIds.includes(r.id)))) {
    const reason = await row.unavailable?.(h);
    planned.push({ id: row.id, kind: row.kind, name: row.name, ...(reason ? { notMeasured: reason } : {}) });
    if (!reason) rows.push(row);
  }
  return { rows, planned };
}

/** Every run, in order: per size and dirty rate, round-robin over the runs, each of them over every kind's rows. */
function schedule(o: Options, rows: Row[]): Array<{ row: Row; c: Case; run: number }> {
  const out: Array<{ row: Row; c: Case; run: number }> = [];
  for (const mib of o.sizes) {
    for (const dirty of o.dirty) {
      for (let run = 1; run <= o.runs; run++) {
        for (const kind of o.kinds) {
          for (const row of rows.filter((r) => r.kind === kind)) {
            if (row.id === 'baseline' && o.baselineDirty && !o.baselineDirty.includes(dirty)) continue;
            out.push({ row, c: { kind, mib, dirty }, run });
          }
        }
      }
    }
  }
  return out;
}

const minutes = (s: number): string => `${(s / 60).toFixed(1)} min`;

async function main(): Promise<void> {
  const started = performance.now();
  const elapsedS = () => (performance.now() - started) / 1e3;
  const o = options(process.argv.slice(2));
  const command = commandLine('bench', 'dist/bench/matrix.js', o.argv);
  const { lab, a, b } = labHosts();
  let failed = false;
  try {
    const h: BaselineHosts = { lab, a, b, rootA: await dockerRoot(a), rootB: await dockerRoot(b) };
    const { rows, planned } = await planRows(h, o);
    for (const p of planned.filter((x) => x.notMeasured)) console.error(`not measured: ${p.kind} ${p.name}: ${p.notMeasured!.split('\n')[0]}`);
    const runs = schedule(o, rows);
    const runsS = runs.reduce((s, r) => s + runSeconds(r.c.kind, r.row.id, r.c.mib), 0);
    const estimatedSeconds = OVERHEAD_S + runsS + (o.pipeline ? PIPELINE_S : 0);
    console.error(`${runs.length} runs (${o.kinds.join(', ')}; ${o.sizes.join(', ')} MiB; dirty ${o.dirty.join(', ')} MiB/s; ${o.runs} per cell)${o.pipeline ? ' + the pipeline micro-benchmark' : ''}: estimated ${minutes(estimatedSeconds)}`
      + (estimatedSeconds > BUDGET_S ? ` — more than the ${minutes(BUDGET_S)} the full default is held to` : ''));

    let pipelineError: Record<string, unknown> | undefined;
    let pipelineVerdict: string | undefined;
    if (o.pipeline) {
      try {
        const r = await pipelineBench({ lab, a, b }, { mib: PIPELINE_MIB, runs: o.quick ? 1 : 3, quick: o.quick, command, outDir: o.outDir }, (line) => console.error(line));
        pipelineVerdict = verdict(r);
        console.error(pipelineVerdict);
      } catch (e) {
        pipelineError = errorJson(e);
        failed = true;
        console.error(`pipeline micro-benchmark FAILED: ${String(pipelineError.message)}`);
      }
    }

    const facts = await hostFacts(a, b);
    const loadavgBefore = loadavg();
    const records: RunRecord[] = [];
    for (const [i, { row, c, run }] of runs.entries()) {
      const r = await runOnce(h, row, c, run);
      records.push(r);
      const left = runs.slice(i + 1).reduce((s, x) => s + runSeconds(x.c.kind, x.row.id, x.c.mib), 0);
      console.error(`[${i + 1}/${runs.length}, ${minutes(elapsedS())}, ~${minutes(left)} left] ${describe(r)}`);
    }

    const meta: MatrixMeta = {
      command, ...facts, quick: o.quick, plan: { kinds: o.kinds, sizes: o.sizes, dirty: o.dirty, baselineDirty: o.baselineDirty, runs: o.runs, quick: o.quick, pipeline: o.pipeline }, rows: planned,
      estimatedSeconds: Math.round(estimatedSeconds), ...(pipelineVerdict ? { pipelineVerdict } : {}), ...(pipelineError ? { pipelineError } : {}), tookSeconds: Math.round(elapsedS()), loadavgBefore, loadavgAfter: loadavg(),
      workload: 'memload --mib N [--dirty D] --tick-ms 1 --seed <run> (docker run -d --security-opt seccomp=unconfined IMAGE …, or unshare --pid --fork setsid build/memload …)',
    };
    const cells = summarize(records, meta.plan, planned);
    mkdirSync(o.outDir, { recursive: true });
    writeFileSync(join(o.outDir, 'matrix.json'), JSON.stringify({ ...meta, cells, runs: records }, null, 2) + '\n');
    writeFileSync(join(o.outDir, 'matrix.md'), markdown(meta, factsMarkdown(command, facts), cells, records));
    const title = `Freeze time vs memory size${o.quick ? ' (quick smoke run)' : ''}: median of ${o.runs} run(s), bar = min…max`;
    writeFileSync(join(o.outDir, 'matrix.svg'), await renderSvg(freezeChartSpec(chartPoints(cells), title)));
    console.log(table(cells));
    console.error(`took ${minutes(elapsedS())} (estimated ${minutes(estimatedSeconds)}); results in ${o.outDir}/matrix.{md,json,svg}`);
    if (records.some(troubled)) failed = true;
  } finally {
    await b.close();
  }
  if (failed) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
