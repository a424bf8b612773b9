/**
 * Whose time a Docker container's post-copy freeze is (issue 20: everything that is migrate's
 * own under 100 ms of it; the rest Docker's and CRIU's, next to a plain `docker start` on B).
 *
 * Each run: a memload container (--mib, 1 ms ticks) on A, moved to B with `--strategy
 * postcopy` through transports that time every command migrate runs on either host
 * (lib/timed-transport.ts); the freeze is cut where Docker's and CRIU's commands start and end
 * and where the workload's ticks stop on A and go on on B (lib/freeze-split.ts, on the one clock
 * the lab's hosts share). The workload's own view decides where the freeze starts and ends, not
 * the controller's. Beside each run, a plain `docker start` of a never-run container on B.
 *
 * Run: npm run bench:docker-freeze [-- --mib 256 --runs 5]
 * Needs the lab (bash lab/lab.sh up). Writes bench/results/docker-freeze.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorJson, migrate, type MigrateEvent, type MigrationReport } from '../src/index.js';
import { nowMs } from './lib/docker-baseline.js';
import { plainDockerStart } from './lib/docker-start.js';
import { fail } from './lib/fail.js';
import { DASH } from './lib/format.js';
import { splitFreeze, type FreezeSplit } from './lib/freeze-split.js';
import { commandLine, factsMarkdown, hostFacts, loadavg, type HostFacts } from './lib/host-facts.js';
import { labHosts, ROOT, type LabHosts } from './lib/lab.js';
import { startSubject, waitOnB, type ContainerSubject } from './lib/matrix-subjects.js';
import { measured, round1, spreadOf, type Spread } from './lib/stats.js';
import { timedTransport, type Call } from './lib/timed-transport.js';
import { workloadView } from './lib/workload-view.js';

/** Issue 20: migrate's own share of a Docker freeze. */
const MIGRATE_SHARE_MS = 100;

interface Options { mib: number; runs: number; outDir: string; argv: string[] }

interface Run {
  run: number; loadavg: string; ok: boolean;
  freezeMs?: number;
  freezeStart?: MigrationReport['freeze_start'];
  split?: FreezeSplit;
  /** CRIU's own restore time (stats-restore), inside restoreCommand. */
  criuRestoreMs?: number;
  /** A plain `docker start` on B, just before the move. */
  plainStartMs: number;
  pageChannel?: string;
  /** migrate's calls (and the steps it emitted, host `controller`) from the `checkpoint` step until shortly after the freeze, ms from that step. */
  calls?: Array<Omit<Call, 'argv'>>;
  error?: Record<string, unknown> | string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { mib: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' } } });
  const o = { mib: Number(values.mib ?? 256), runs: Number(values.runs ?? 5), outDir: values.out ?? join(ROOT, 'bench/results'), argv };
  if (!Number.isInteger(o.mib) || o.mib < 1) fail(`--mib wants a positive integer, got ${values.mib}`);
  if (!Number.isInteger(o.runs) || o.runs < 1) fail(`--runs wants a positive integer, got ${values.runs}`);
  return o;
}

async function runOnce(h: LabHosts, o: Options, run: number): Promise<Run> {
  const rec: Run = { run, loadavg: loadavg(), ok: false, plainStartMs: round1((await plainDockerStart(h.b, h.lab.image)).start_ms) };
  const subject = await startSubject(h, { kind: 'docker', mib: o.mib, dirty: 0 }, run) as ContainerSubject;
  try {
    const calls: Call[] = [];
    let stepAt: number | undefined;
    const onEvent = (e: MigrateEvent) => {
      if (e.kind !== 'step') return;
      if (e.step === 'checkpoint') stepAt = nowMs();
      calls.push({ host: 'controller', how: 'step', what: e.step, start: nowMs() }); // where the pipeline's steps begin, in the timeline
    };
    // keepSource: A's exited container keeps its log, the workload's last ticks there.
    const report = await migrate({
      container: subject.name, source: timedTransport(h.a, calls), target: timedTransport(h.b, calls), keepSource: true, strategy: 'postcopy', onEvent,
    });
    if (report.outcome !== 'migrated' || report.freeze_ms === null || stepAt === undefined) throw new Error(`outcome ${report.outcome}: ${JSON.stringify(report.error)}`);
    rec.freezeMs = report.freeze_ms;
    rec.pageChannel = report.page_channel;
    rec.criuRestoreMs = report.criu.restore ? round1(report.criu.restore.restoreTimeUs / 1e3) : undefined;
    await waitOnB(subject);
    const view = workloadView(await subject.ticksA(), await subject.ticksB());
    if (!view.continues) throw new Error(`the ticks do not go on with the next number on B (${view.lastTickA} → ${view.firstTickB})`);
    const t0 = stepAt;
    rec.freezeStart = report.freeze_start;
    rec.split = splitFreeze({
      commandMs: report.freeze_start.command_ms ?? 0, freezeMs: report.freeze_ms, lastTickA: view.lastTickAUs / 1e3, firstTickB: view.firstTickBUs / 1e3, calls, source: h.a.name, target: h.b.name,
    });
    for (const k of Object.keys(rec.split) as Array<keyof FreezeSplit>) rec.split[k] = round1(rec.split[k]);
    rec.calls = calls.filter((c) => c.start >= t0 && c.start <= t0 + report.freeze_ms! + 200).map(({ argv: _, ...c }) => ({
      ...c, start: round1(c.start - t0), ...(c.end === undefined ? {} : { end: round1(c.end - t0) }), ...(c.ready === undefined ? {} : { ready: round1(c.ready - t0) }),
    }));
    rec.ok = true;
  } catch (e) {
    rec.error = errorJson(e) ?? String(e);
  } finally {
    await subject.remove();
  }
  return rec;
}

/** The table's rows: a segment, whose time it is, and how to read it off a run. */
const ROWS: Array<[string, string, (r: Run) => number | undefined]> = [
  ['the report\'s freeze (`freeze_ms`: for Docker from `docker checkpoint create`\'s issue)', 'all', (r) => r.freezeMs],
  ['– the report\'s freeze less the workload\'s', '', (r) => r.split?.reportMinusWorkloadMs],
  ['– not yet frozen: `docker checkpoint create` before CRIU froze the container (the workload still ran)', 'Docker, runc, CRIU', (r) => r.split?.notFrozenMs],
  ['**the workload\'s freeze** (last tick on A → first tick on B)', 'all', (r) => r.split?.workloadMs],
  ['– dump: CRIU froze it and dumped all but the memory, until migrate saw its page server (wait-listening.sh looks every few ms)', 'runc, CRIU', (r) => r.split?.dumpMs],
  ['– between: images to B, descriptors.json and runc.conf on B, guards told, lazy-pages daemon started', 'migrate, CRIU', (r) => r.split?.betweenMs],
  ['  – of it: while `criu lazy-pages` was starting on B (until its status fd said ready; migrate prepares beside it)', 'CRIU', (r) => r.split?.daemonMs],
  ['– `docker start --checkpoint` on B, until it returned (the copy restored, stopped)', 'Docker, runc, CRIU', (r) => r.split?.restoreCommandMs],
  ['  – of it: CRIU\'s own restore (stats-restore `restore_time`)', 'CRIU', (r) => r.criuRestoreMs],
  ['– resume: from the restore command\'s return until its first tick', 'migrate, CRIU', (r) => r.split?.resumeMs],
  ['  – hand-over: the target\'s guard told to resume the copy, its answer back (the report\'s freeze ends here)', 'migrate', (r) => r.split?.handOverMs],
  ['  – first faults: after it resumed, until its first tick (post-copy: pages pulled from A on demand)', 'CRIU, migrate\'s relay', (r) => r.split?.firstFaultsMs],
  ['a plain `docker start` of a never-run container on B (for comparison)', 'Docker', (r) => r.plainStartMs],
  ['**migrate\'s own time in the workload\'s freeze, at most** (between − daemon + hand-over)', 'migrate', (r) => r.split?.migrateMaxMs],
];

const ms = (s: Spread | undefined): string => (s ? `${s.median.toFixed(0)} | ${s.min.toFixed(0)} | ${s.max.toFixed(0)}` : `${DASH} | ${DASH} | ${DASH}`);

function markdown(command: string, facts: HostFacts, o: Options, runs: Run[]): string {
  const ok = runs.filter((r) => r.ok);
  const col = (g: (r: Run) => number | undefined) => spreadOf(measured(ok.map(g)));
  const own = col((r) => r.split?.migrateMaxMs);
  const verdict = own === undefined ? 'not measured' : own.median <= MIGRATE_SHARE_MS ? 'met' : `missed by ${(own.median - MIGRATE_SHARE_MS).toFixed(0)} ms`;
  const each = runs.map((r) => (r.ok
    ? `| ${r.run} | ${r.pageChannel} | ${r.freezeMs} | ${r.split!.workloadMs} | ${r.freezeStart?.from} | ${r.split!.notFrozenMs} | ${r.split!.dumpMs} | ${r.split!.betweenMs} | ${r.split!.daemonMs} | ${r.split!.restoreCommandMs} | ${r.criuRestoreMs ?? DASH} | ${r.split!.handOverMs} | ${r.split!.firstFaultsMs} | ${r.split!.migrateMaxMs} | ${r.plainStartMs} | ${r.loadavg} |`
    : `| ${r.run} | failed: ${JSON.stringify(r.error).slice(0, 200)} |||||||||||||| ${r.plainStartMs} | ${r.loadavg} |`));
  return `# Whose time a Docker post-copy freeze is (\`npm run bench:docker-freeze\`)\n\n${factsMarkdown(command, facts)}\n`
    + `A memload container with ${o.mib} MiB resident (1 ms ticks) moved A → B with \`--strategy postcopy\`, ${ok.length} of ${runs.length} runs verified (the ticks go on with the next number on B). `
    + 'Every command migrate ran on either host was timed (bench/lib/timed-transport.ts), and the freeze cut where Docker\'s and CRIU\'s commands start and end and where the workload\'s ticks stop on A and go on on B (bench/lib/freeze-split.ts; both lab hosts share one clock). Milliseconds: median | min | max.\n\n'
    + '| segment | whose | median | min | max |\n|---|---|---:|---:|---:|\n'
    + ROWS.map(([what, whose, g]) => `| ${what} | ${whose} | ${ms(col(g))} |`).join('\n') + '\n\n'
    + `Target (issue 20): migrate's own share of a Docker freeze ≤ ${MIGRATE_SHARE_MS} ms: **${verdict}** (median of the upper bound above).\n\n`
    + '## Every run\n\n| run | channel | report freeze | workload freeze | report counts from | not yet frozen | dump | between | daemon | docker start --checkpoint | CRIU restore | hand-over | first faults | migrate at most | plain docker start | load |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
    + each.join('\n') + '\n';
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const h = labHosts();
  try {
    const facts = await hostFacts(h.a, h.b);
    const runs: Run[] = [];
    for (let run = 1; run <= o.runs; run++) {
      const r = await runOnce(h, o, run);
      console.log(`run ${run}: ${r.ok ? `freeze ${r.freezeMs} ms ${JSON.stringify(r.split)} CRIU restore ${r.criuRestoreMs} ms, plain docker start ${r.plainStartMs} ms` : JSON.stringify(r.error)}`);
      runs.push(r);
    }
    mkdirSync(o.outDir, { recursive: true });
    const command = commandLine('bench:docker-freeze', 'dist/bench/docker-freeze.js', o.argv);
    writeFileSync(join(o.outDir, 'docker-freeze.json'), JSON.stringify({ meta: { command, ...facts, mib: o.mib, runs: o.runs }, runs }, null, 1) + '\n');
    const md = markdown(command, facts, o, runs);
    writeFileSync(join(o.outDir, 'docker-freeze.md'), md);
    console.log(md);
    if (runs.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    await h.b.close();
  }
}

await main();
