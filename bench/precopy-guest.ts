/**
 * Pre-copy vs cold (and hybrid) in the soft-dirty guest: how long is a process tree holding
 * N MiB frozen when it moves from the guest's host A to its host B, at dirty rates 0, 10 and
 * 50 MiB/s? All strategies are measured in the same run, round-robin, with the same workload.
 *
 * The guest is QEMU under TCG (lab/guest): every figure is several times slower than native and
 * its link carries only 2-5 MB/s, so read the ratios between strategies, not the seconds. The
 * memory is small for the same reason (16 MiB: round 0 of pre-copy takes ~10 s).
 *
 * Pre-copy runs with the default stop policy (precopy-policy.ts): how many rounds it takes and
 * why it stops is part of the result.
 *
 * Freeze is reported twice: by the controller (report.freeze_ms) and by the workload, whose
 * output file both guest hosts share: the largest gap between consecutive `tick` lines.
 *
 * Run: npm run bench:precopy [-- --mib 16 --dirty 0,10,50 --runs 3 --strategies cold,precopy,hybrid | --quick]
 * Writes bench/results/precopy-guest.{json,md}.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { SshTransport, errorJson, migrate, type MigrationReport, type Transport } from '../src/index.js';
import { readFileVia } from '../transports/files.js';
import { fail } from './lib/fail.js';
import { cell, sec, spreadCells } from './lib/format.js';
import { commandLine, factsMarkdown, hostFacts, loadavg } from './lib/host-facts.js';
import { ROOT } from './lib/lab.js';
import { continuous, parseTicks } from './lib/memload.js';
import { median, spreadOf } from './lib/stats.js';

type Strategy = 'cold' | 'precopy' | 'hybrid' | 'postcopy';
const STRATEGIES: readonly Strategy[] = ['cold', 'precopy', 'hybrid', 'postcopy'];

interface Options { mib: number; dirty: number[]; runs: number; strategies: Strategy[]; argv: string[] }
interface Run {
  strategy: Strategy; dirty: number; run: number; moved: boolean; verified: boolean;
  freeze_ms?: number; workload_gap_ms?: number; total_ms?: number; rounds?: number[]; final_pages?: number; stop?: string;
  report?: MigrationReport; error?: Record<string, unknown>;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: {
    mib: { type: 'string' }, dirty: { type: 'string' }, runs: { type: 'string' }, strategies: { type: 'string' }, quick: { type: 'boolean' },
  } });
  const o: Options = {
    mib: Number(values.mib ?? 16),
    dirty: (values.dirty ?? (values.quick ? '0,10' : '0,10,50')).split(',').map(Number),
    runs: Number(values.runs ?? (values.quick ? 1 : 3)),
    strategies: (values.strategies ?? 'cold,precopy,hybrid').split(',') as Strategy[],
    argv,
  };
  if (!Number.isInteger(o.mib) || o.mib < 1) fail(`--mib wants a positive integer, got ${values.mib}`);
  if (!o.dirty.every((d) => Number.isFinite(d) && d >= 0)) fail(`--dirty wants MiB/s like 0,10,50, got ${values.dirty}`);
  if (!Number.isInteger(o.runs) || o.runs < 1) fail(`--runs wants a positive integer, got ${values.runs}`);
  if (!o.strategies.every((s) => STRATEGIES.includes(s))) fail(`--strategies wants some of ${STRATEGIES.join(',')}, got ${values.strategies}`);
  return o;
}

function guestEnv(): { a: string; b: string; key: string; knownHosts: string } {
  execFileSync('bash', [join(ROOT, 'lab/guest/guest.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const text = execFileSync('bash', [join(ROOT, 'lab/guest/guest.sh'), 'env'], { encoding: 'utf8' });
  const env = new Map([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const get = (k: string) => env.get(k) ?? fail(`guest.sh env gave no ${k}`);
  return { a: get('MIGRATE_GUEST_A'), b: get('MIGRATE_GUEST_B'), key: get('MIGRATE_GUEST_SSH_KEY'), knownHosts: get('MIGRATE_GUEST_KNOWN_HOSTS') };
}

/** One migration of a fresh memload tree from the guest's A to its B. */
async function runOnce(a: Transport, b: Transport, o: Options, strategy: Strategy, dirty: number, run: number): Promise<Run> {
  const rec: Run = { strategy, dirty, run, moved: false, verified: false };
  const dir = (await a.exec(['sh', '-c', 'mkdir -p /var/tmp/migrate-bench && mktemp -d /var/tmp/migrate-bench/run.XXXXXX'])).stdout.trim();
  const outFile = `${dir}/out.log`;
  let restored: string | undefined;
  let pid: string | undefined;
  try {
    const args = ['/usr/local/bin/memload', '--mib', String(o.mib), ...(dirty ? ['--dirty', String(dirty)] : []), '--tick-ms', '5'];
    const started = await a.exec(['sh', '-c',
      'unshare --pid --fork setsid sh -c \'exec "$@" > "$OUT" 2>&1\' workload "$@" > /dev/null 2>&1 < /dev/null & u=$!; ' +
      'for i in $(seq 200); do c=$(pgrep -P $u) && [ -n "$c" ] && grep -q "^tick 20 " "$OUT" 2>/dev/null && { echo $c; exit 0; }; sleep 0.1; done; exit 1',
      'start', ...args], { env: { OUT: outFile } });
    pid = started.stdout.trim();
    const t0 = performance.now();
    const report = await migrate({ pid: Number(pid), source: a, target: b, strategy });
    rec.total_ms = Math.round(performance.now() - t0);
    rec.report = report;
    if (report.outcome !== 'migrated') fail(`migrate ended ${report.outcome}: ${JSON.stringify(report.error)}`);
    restored = /^pid (\d+)$/.exec(report.workload.target ?? '')?.[1];
    rec.moved = true;
    rec.freeze_ms = report.freeze_ms ?? undefined;
    rec.rounds = report.precopy?.rounds.map((r) => r.pages_written);
    rec.stop = report.precopy?.stop.reason;
    rec.final_pages = report.criu.dump?.pagesWritten;
    await sleep(1500); // ticks from B
    const ticks = parseTicks((await readFileVia(a, outFile)).toString('utf8'));
    rec.verified = continuous(ticks) && ticks.length > 20;
    rec.workload_gap_ms = Math.max(...ticks.slice(1).map((x, i) => x.us - ticks[i]!.us)) / 1e3;
  } catch (e) {
    rec.error = errorJson(e);
  } finally {
    if (restored) await b.exec(['kill', '-KILL', restored], { allowFailure: true });
    if (pid) await a.exec(['kill', '-KILL', pid], { allowFailure: true });
    await a.exec(['rm', '-rf', dir], { allowFailure: true });
  }
  return rec;
}

function describe(r: Run): string {
  const head = `dirty ${r.dirty} run ${r.run} ${r.strategy}:`;
  if (!r.moved) return `${head} FAILED ${String(r.error?.message ?? '').split('\n')[0]}`;
  return `${head} freeze ${r.freeze_ms} ms, workload gap ${r.workload_gap_ms} ms, total ${r.total_ms} ms` +
    (r.rounds ? `, rounds ${r.rounds.join('/')} pages (${r.stop}), final dump ${r.final_pages} pages` : '') + (r.verified ? '' : ', ticks DO NOT continue');
}

function table(runs: Run[], o: Options): string {
  const lines = [
    '| Dirty MiB/s | Strategy | Moved / verified / runs | Freeze median s | Min s | Max s | vs cold | Workload view median s | Min s | Max s | Pre-dump rounds (pages, median run) | Final dump pages, median | Total s, median |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  for (const dirty of o.dirty) {
    const ok = (s: Strategy) => runs.filter((r) => r.dirty === dirty && r.strategy === s && r.moved);
    const cold = spreadOf(ok('cold').map((r) => r.freeze_ms!));
    for (const s of o.strategies) {
      const all = runs.filter((r) => r.dirty === dirty && r.strategy === s);
      const moved = ok(s);
      const freeze = spreadOf(moved.map((r) => r.freeze_ms!));
      const ratio = freeze && cold && s !== 'cold' ? (freeze.median / cold.median).toFixed(2) : s === 'cold' ? '1' : '–';
      const mid = [...moved].sort((x, y) => x.freeze_ms! - y.freeze_ms!)[moved.length >> 1];
      const finals = moved.map((r) => r.final_pages).filter((x): x is number => x !== undefined);
      lines.push(`| ${dirty} | ${cell(s)} | ${moved.length} / ${moved.filter((r) => r.verified).length} / ${all.length} | ${spreadCells(freeze)} | ${ratio} | ${spreadCells(spreadOf(moved.map((r) => r.workload_gap_ms!)))} | ` +
        `${mid?.rounds ? `${mid.rounds.join(' → ')} (${mid.stop})` : '–'} | ${finals.length ? median(finals) : '–'} | ${moved.length ? sec(median(moved.map((r) => r.total_ms!))) : '–'} |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const g = guestEnv();
  const ssh = { identityFiles: [g.key], knownHostsFiles: [g.knownHosts] };
  const a = new SshTransport(g.a, ssh);
  const b = new SshTransport(g.b, ssh);
  try {
    const facts = await hostFacts(a, b);
    const guestKernel = (await a.exec(['uname', '-r'])).stdout.trim();
    const loadBefore = loadavg();
    const started = Date.now();
    const runs: Run[] = [];
    for (const dirty of o.dirty) {
      for (let run = 1; run <= o.runs; run++) {
        for (const s of o.strategies) {
          const r = await runOnce(a, b, o, s, dirty, run);
          console.error(describe(r));
          runs.push(r);
        }
      }
    }
    const command = commandLine('bench:precopy', 'dist/bench/precopy-guest.js', o.argv);
    const meta = { command, ...facts, guestKernel, mib: o.mib, dirty: o.dirty, runsPerCell: o.runs, strategies: o.strategies, loadBefore, loadAfter: loadavg(), durationS: Math.round((Date.now() - started) / 1000) };
    const dir = join(ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'precopy-guest.json'), JSON.stringify({ ...meta, runs }, null, 2) + '\n');
    const md = table(runs, o);
    const failed = runs.filter((r) => !r.moved || !r.verified).map((r) => `- ${describe(r)}`);
    writeFileSync(join(dir, 'precopy-guest.md'), `# Pre-copy vs cold in the soft-dirty guest: freeze time\n\n${factsMarkdown(command, facts)}Guest kernel: ${guestKernel} (QEMU TCG, 2 vCPUs)  \n` +
      `Duration: ${meta.durationS} s\n\nWorkload: \`memload --mib ${o.mib} --dirty D --tick-ms 5\` as a process tree in its own PID namespace on the guest's host A, moved to its host B ` +
      '(a mount namespace of its own, its own sshd) by the controller over SSH through QEMU user networking (2-5 MB/s). Runs round-robin per dirty rate. ' +
      'Pre-copy and hybrid use the default stop policy. Controller freeze: `freeze_ms` of the report. Workload view: the largest gap between consecutive tick timestamps in the output file both hosts share. ' +
      'TCG makes every time several times longer than native: compare strategies, not seconds.\n\n' + md +
      `\n\nLoad average before/after: ${loadBefore} / ${meta.loadAfter}.\n` + (failed.length ? `\nRuns that failed or did not verify:\n${failed.join('\n')}\n` : ''));
    console.log(md);
    if (failed.length) process.exitCode = 1;
  } finally {
    await a.close();
    await b.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
