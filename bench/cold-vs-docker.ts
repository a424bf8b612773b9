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
 * - migrate: `migrateDockerContainer()` (keepSource, so A's log survives for the tick check):
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
 * Run: npm run bench:cold [-- --sizes 64,256 --runs 3 | --quick]   (default 64,256,1024 MiB × 3)
 * Needs the lab (bash lab/lab.sh up). Writes bench/results/cold-vs-docker.{json,md} and prints
 * PASS/FAIL for the target: at 1024 MiB, migrate's median freeze ≤ 1/10 of the baseline's.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalTransport } from '../transports/local.js';
import { quoteArg } from '../transports/quote.js';
import { SshTransport } from '../transports/ssh/ssh-transport.js';
import type { Transport } from '../transports/transport.js';
import { MARKER, RUNC_CONF, RUNC_CONF_LOCK } from '../src/docker/runc-conf.js';
import { errorJson } from '../src/errors.js';
import { lockHost, type HostLock } from '../src/host-lock.js';
import { migrateDockerContainer, type DockerMigrationOptions } from '../src/migration/docker.js';
import type { MigrationReport } from '../src/migration/report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)); // dist/bench/ -> repo root
const CHECKPOINT = 'cp';
/** runc.conf lines that would redirect or split Docker's checkpoint: what migrate writes. */
const OVERRIDE = /^\s*(images-dir|work-dir|lazy-pages|page-server)\b/m;
const TARGET_MIB = 1024;
const TARGET_RATIO = 0.1;

interface Lab { url: string; hostSpec: string; key: string; knownHosts: string; image: string }
interface Hosts { lab: Lab; a: Transport; b: Transport; rootA: string; rootB: string }
type Phases = Record<string, number>;
/** What a row did to move the container: controller-side figures. */
interface Move { freeze_ms: number; phases_ms: Phases; bytes: { raw: number; wire?: number }; report?: MigrationReport }
interface Row { name: string; run: (container: string, mib: number) => Promise<Move> }
interface Tick { n: number; us: number }
interface WorkloadView { ticksA: number; ticksB: number; lastTickA: number; firstTickB: number; continues: boolean; maxGapMs: number; boundaryGapMs: number }
interface RunRecord extends Partial<Move> {
  sizeMib: number; row: string; run: number; container: string; loadavg: string;
  moved: boolean; workload?: WorkloadView; error?: Record<string, unknown>;
}
interface Options { sizes: number[]; runs: number; argv: string[] }
interface PerHost { a: string | null; b: string | null }
interface HostFacts { date: string; commit: string; kernel: string; cpus: number; cpuModel: string; node: string; criu: PerHost; docker: PerHost; runcConf: PerHost }
interface Meta extends HostFacts { command: string; sizesMib: number[]; runsPerSize: number; workload: string; loadavgBefore: string; loadavgAfter: string }

const fail = (message: string): never => { throw new Error(message); };
const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').trim();
const out = async (t: Transport, argv: string[]): Promise<string> => (await t.exec(argv)).stdout.trim();

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string' }, runs: { type: 'string' }, quick: { type: 'boolean' } } });
  const sizes = (values.sizes ?? (values.quick ? '64,256' : '64,256,1024')).split(',').map(Number);
  const runs = Number(values.runs ?? (values.quick ? 1 : 3));
  if (!sizes.every((s) => Number.isInteger(s) && s > 0)) fail(`--sizes wants MiB like 64,256, got ${values.sizes}`);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs wants a positive integer, got ${values.runs}`);
  return { sizes, runs, argv };
}

function labEnv(): Lab {
  const text = execFileSync('bash', [join(ROOT, 'lab/lab.sh'), 'env'], { encoding: 'utf8' });
  const env = new Map([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const get = (k: string): string => env.get(k) ?? process.env[k] ?? fail(`lab.sh env gave no ${k}`);
  const url = get('MIGRATE_LAB_TARGET');
  return { url, hostSpec: url.replace(/^ssh:\/\//, ''), key: get('MIGRATE_LAB_SSH_KEY'), knownHosts: get('MIGRATE_LAB_KNOWN_HOSTS'), image: get('MIGRATE_LAB_IMAGE') };
}

/** `docker run`/`docker create` arguments of the workload: the same on A and for B's twin. */
const workloadArgs = (lab: Lab, name: string, mib: number): string[] => [
  '--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined',
  lab.image, '--mib', String(mib), '--tick-ms', '1',
];

function stopwatch(): () => number {
  let t = performance.now();
  return () => { const now = performance.now(); const ms = Math.round(now - t); t = now; return ms; };
}

// ---------------------------------------------------------------- runc.conf must be Docker's own

/** One id per lock file: in the lab A and B share /run, so one lock covers both hosts. */
async function lockFileId(t: Transport): Promise<string> {
  return out(t, ['sh', '-c', 'touch "$1" && echo "$(cat /proc/sys/kernel/random/boot_id) $(stat -c %d:%i "$1")"', 'lock-id', RUNC_CONF_LOCK]);
}

async function runcConf(t: Transport): Promise<string | null> {
  const r = await t.exec(['cat', RUNC_CONF], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : null;
}

/** Takes migrate's runc.conf lock on every host and refuses a runc.conf that migrate overrode. */
async function holdPlainRuncConf(hosts: Transport[]): Promise<HostLock> {
  const locks = new Map<string, HostLock>();
  const release = async () => { for (const l of locks.values()) await l.release(); };
  try {
    for (const t of hosts) {
      const id = await lockFileId(t);
      if (!locks.has(id)) locks.set(id, await lockHost(t, RUNC_CONF_LOCK, RUNC_CONF, 120));
      const conf = await runcConf(t);
      if (conf !== null && (conf.startsWith(MARKER) || OVERRIDE.test(conf))) fail(`${RUNC_CONF} on ${t.name} is overridden:\n${conf}`);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { release };
}

// ---------------------------------------------------------------- the rows

async function requireRunning(t: Transport, id: string): Promise<void> {
  const running = await out(t, ['docker', 'inspect', '--format', '{{.State.Running}}', id]);
  if (running !== 'true') fail(`container ${id} is not running on ${t.name} after restore`);
}

/** `tar | zstd -1 | ssh B 'zstd -d | tar -x'` with the OpenSSH binary, as the documentation's reader would. */
async function sendOverOpenSsh(h: Hosts, src: string, dst: string): Promise<void> {
  const ssh = ['-i', h.lab.key, '-o', `UserKnownHostsFile=${h.lab.knownHosts}`, '-o', 'BatchMode=yes', h.lab.hostSpec];
  const remote = `mkdir -p ${quoteArg(dst)} && zstd -d | tar -x -C ${quoteArg(dst)}`;
  await h.a.exec(['bash', '-o', 'pipefail', '-c', 'tar -C "$1" -c . | zstd -1 | ssh "${@:2}"', 'send', src, ...ssh, remote]);
}

function dockerBaseline(h: Hosts): Row {
  return {
    name: 'baseline: docker checkpoint + tar|zstd|ssh',
    run: async (container, mib) => {
      const lock = await holdPlainRuncConf([h.a, h.b]);
      try {
        const lap = stopwatch();
        const targetId = await out(h.b, ['docker', 'create', ...workloadArgs(h.lab, container, mib)]);
        const sourceId = await out(h.a, ['docker', 'inspect', '--format', '{{.Id}}', container]);
        const src = posix.join(h.rootA, 'containers', sourceId, 'checkpoints', CHECKPOINT);
        const dst = posix.join(h.rootB, 'containers', targetId, 'checkpoints', CHECKPOINT);
        const create = lap();
        await h.a.exec(['docker', 'checkpoint', 'create', container, CHECKPOINT]);
        const checkpoint = lap();
        await sendOverOpenSsh(h, src, dst);
        const transfer = lap();
        await h.b.exec(['docker', 'start', '--checkpoint', CHECKPOINT, targetId]);
        await requireRunning(h.b, targetId);
        const restore = lap();
        const raw = Number((await out(h.a, ['du', '-sb', src])).split(/\s/)[0]);
        return { freeze_ms: checkpoint + transfer + restore, phases_ms: { create, checkpoint, transfer, restore }, bytes: { raw } };
      } finally {
        await lock.release();
      }
    },
  };
}

type ExtraOptions = Partial<Omit<DockerMigrationOptions, 'container' | 'source' | 'target'>>;

function migrateRow(name: string, h: Hosts, extra: ExtraOptions = {}): Row {
  return {
    name,
    run: async (container) => {
      // This bench compares cold migration with Docker's workflow: the strategy is fixed, not auto.
      const report = await migrateDockerContainer({ container, source: h.a, target: h.b, keepSource: true, strategy: 'cold', ...extra });
      if (report.outcome !== 'migrated' || report.freeze_ms === null) fail(`migrate ended ${report.outcome}: ${JSON.stringify(report.error)}`);
      return { freeze_ms: report.freeze_ms!, phases_ms: { ...report.phases_ms }, bytes: report.bytes, report };
    },
  };
}

// ---------------------------------------------------------------- the workload's view

const parseTicks = (log: string): Tick[] => [...log.matchAll(/^tick (\d+) (\d+)$/gm)].map((m) => ({ n: Number(m[1]), us: Number(m[2]) }));
const logs = async (t: Transport, name: string): Promise<Tick[]> => parseTicks((await t.exec(['docker', 'logs', name])).stdout);

async function waitForTicks(t: Transport, name: string, count: number, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    if ((await logs(t, name)).length >= count) return;
  }
  fail(`no ${count} ticks from ${name} on ${t.name} within ${timeoutMs} ms`);
}

const continuous = (ticks: Tick[]): boolean => ticks.every((x, i) => i === 0 || x.n === ticks[i - 1]!.n + 1);

function workloadView(onA: Tick[], onB: Tick[]): WorkloadView {
  const last = onA[onA.length - 1] ?? fail('no ticks on A');
  const first = onB[0] ?? fail('no ticks on B');
  const all = [...onA, ...onB];
  const maxGapUs = Math.max(...all.slice(1).map((x, i) => x.us - all[i]!.us));
  return {
    ticksA: onA.length, ticksB: onB.length, lastTickA: last.n, firstTickB: first.n,
    continues: continuous(onA) && continuous(onB) && first.n === last.n + 1,
    maxGapMs: maxGapUs / 1e3, boundaryGapMs: (first.us - last.us) / 1e3,
  };
}

// ---------------------------------------------------------------- one run, all runs

let seq = 0;

async function runOnce(h: Hosts, row: Row, mib: number, run: number): Promise<RunRecord> {
  const container = `bench-${process.pid}-${++seq}`;
  const rec: RunRecord = { sizeMib: mib, row: row.name, run, container, loadavg: loadavg(), moved: false };
  try {
    await h.a.exec(['docker', 'run', '-d', ...workloadArgs(h.lab, container, mib)]);
    await waitForTicks(h.a, container, 5, 120_000);
    Object.assign(rec, await row.run(container, mib), { moved: true });
    await waitForTicks(h.b, container, 20, 10_000);
    rec.workload = workloadView(await logs(h.a, container), await logs(h.b, container));
  } catch (e) {
    rec.error = errorJson(e);
  } finally {
    await h.a.exec(['docker', 'rm', '-f', container], { allowFailure: true });
    await h.b.exec(['docker', 'rm', '-f', container], { allowFailure: true });
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sec = (ms: number): string => (ms / 1e3).toFixed(2);
const spread = (xs: number[]): string => (xs.length ? `${sec(median(xs))} | ${sec(Math.min(...xs))} | ${sec(Math.max(...xs))}` : '– | – | –');

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
      lines.push(`| ${mib} | ${row.replace(/\|/g, '\\|')} | ${c.freezes.length} / ${c.verified} / ${c.runs} | ${spread(c.freezes)} | ${row === rows[0] ? '1' : ratio(c, base)} | ${spread(c.gaps)} | ${freezePhases(c.phases)} | ${fill(c.phases)} |`);
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

async function hostFacts(h: Hosts): Promise<HostFacts> {
  const both = async (argv: string[]) => ({ a: await out(h.a, argv), b: await out(h.b, argv) });
  const dirty = sh('git', '-C', ROOT, 'status', '--porcelain') !== '';
  return {
    date: new Date().toISOString(),
    commit: sh('git', '-C', ROOT, 'rev-parse', '--short', 'HEAD') + (dirty ? ' (working tree has uncommitted changes)' : ''),
    kernel: sh('uname', '-r'),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    criu: await both(['sh', '-c', 'criu --version | head -n 1']),
    docker: await both(['docker', 'version', '--format', '{{.Server.Version}}']),
    runcConf: { a: await runcConf(h.a), b: await runcConf(h.b) },
  };
}

function commandLine(argv: string[]): string {
  const args = argv.map(quoteArg).join(' ');
  if (process.env.npm_lifecycle_event === 'bench:cold') return `npm run bench:cold${args ? ` -- ${args}` : ''}`;
  return `node dist/bench/cold-vs-docker.js${args ? ` ${args}` : ''}`;
}

function write(m: Meta, records: RunRecord[], rows: string[], sizes: number[]): string {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cold-vs-docker.json'), JSON.stringify({ ...m, rows, runs: records }, null, 2) + '\n');
  const header = `# Cold migration vs Docker's checkpoint workflow: freeze time\n\nCommand: \`${m.command}\`  \nDate: ${m.date}  \nCommit: ${m.commit}  \n`
    + `Kernel: ${m.kernel}  \nCPUs: ${m.cpus} x ${m.cpuModel}  \nCRIU: A ${m.criu.a}, B ${m.criu.b}  \nDocker: A ${m.docker.a}, B ${m.docker.b}  \nNode: ${m.node}\n\n`;
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
  const lab = labEnv();
  const a = new LocalTransport();
  const b = new SshTransport(lab.url, { identityFiles: [lab.key], knownHostsFiles: [lab.knownHosts] });
  try {
    const root = (t: Transport) => out(t, ['docker', 'info', '--format', '{{.DockerRootDir}}']);
    const h: Hosts = { lab, a, b, rootA: await root(a), rootB: await root(b) };
    const rows = [
      dockerBaseline(h),
      migrateRow('migrate (default: page server, lazy restore)', h),
      migrateRow('migrate --restore eager', h, { restore: 'eager' }),
      migrateRow('migrate --pages stream --restore eager', h, { pages: 'stream', restore: 'eager' }),
    ];
    const facts = await hostFacts(h);
    const loadavgBefore = loadavg();
    const records = await measure(h, rows, o);
    const names = rows.map((r) => r.name);
    const meta: Meta = {
      command: commandLine(o.argv), ...facts, sizesMib: o.sizes, runsPerSize: o.runs,
      workload: `docker run -d --security-opt seccomp=unconfined ${lab.image} --mib N --tick-ms 1`, loadavgBefore, loadavgAfter: loadavg(),
    };
    console.log(write(meta, records, names, o.sizes));
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
