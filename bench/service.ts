/**
 * What a service's clients see while it moves (issue 20): a real Redis (Debian's package, imported
 * as an image by lab/image/redis.sh) holding a dataset of N MiB in a container with a named
 * volume on /data and a published port, and a client issuing one INCR per millisecond through
 * that port, reconnecting to whichever host answers (bench/lib/redis-client.ts). Moved A → B by:
 *
 * - migrate, `--tcp close` (the client's connection is closed on restore; it reconnects to B):
 *   `auto`, `cold` and `postcopy`;
 * - Docker's documented checkpoint workflow (bench/lib/docker-baseline.ts: the twin created on
 *   B, `docker checkpoint create`, tar|zstd|ssh, `docker start --checkpoint`);
 * - what users do without migrate: `redis-cli SAVE` into the volume, `docker stop`, copy the
 *   volume (tar|zstd|ssh), `docker run` the same container on B, which loads the RDB file.
 *
 * Per move: the longest gap between two successful replies (what a user of the service sees),
 * and the acknowledged writes missing afterwards (replies above the counter's final value on B).
 * The controller's own figures (migrate's freeze, the move's wall clock) are kept beside them.
 *
 * Run: npm run bench:service [-- --sizes 256,1024 --runs 1 --rows auto,cold,postcopy,docker,save-copy]
 * Needs the lab (bash lab/lab.sh up) and the Redis image on A (lab/image/redis.sh). Writes
 * bench/results/service.{json,md,svg} and prints PASS/FAIL for the target: at 1024 MiB, migrate's
 * longest gap ≤ 1/10 of save-stop-copy-start's, and no acknowledged write lost.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorJson, migrate, type MigrationReport, type PrefetchMode, type Transport } from '../src/index.js';
import { prefetchOf } from '../migrate/mode-flags.js';
import { out } from './lib/commands.js';
import { dockerBaselineMove, dockerRoot, nowMs, sendOverOpenSsh, type BaselineHosts } from './lib/docker-baseline.js';
import { fail } from './lib/fail.js';
import { cell, DASH, sec } from './lib/format.js';
import { commandLine, factsMarkdown, hostFacts, loadavg, type HostFacts } from './lib/host-facts.js';
import { labHosts, ROOT } from './lib/lab.js';
import { incrClient, lostAcknowledged, redisCli, type IncrLog } from './lib/redis-client.js';
import { medianOf } from './lib/stats.js';
import { renderSvg } from './lib/freeze-chart.js';
import type { TopLevelSpec } from 'vega-lite';

const IMAGE = process.env.MIGRATE_LAB_REDIS_IMAGE ?? 'migrate-redis:latest';
/** The lab's host addresses: the client reaches the published port on either. */
const HOSTS = { a: '10.231.0.1', b: '10.231.0.2' };
const VALUE_BYTES = 1024;
/** Redis's own cost per key of DEBUG POPULATE with 1 KiB values (measured: used_memory / keys). */
const BYTES_PER_KEY = 1100;
const TARGET_MIB = 1024;
const TARGET_RATIO = 0.1;
/** How long the client must have been answered from B before a move counts as over. */
const SETTLE_ACKS = 2000;

type RowId = 'auto' | 'cold' | 'postcopy' | 'docker' | 'save-copy';
const ROW_NAMES: Record<RowId, string> = {
  auto: 'migrate --tcp close (auto)',
  cold: 'migrate --strategy cold --tcp close',
  postcopy: 'migrate --strategy postcopy --tcp close',
  docker: 'Docker checkpoint workflow (checkpoint, tar|zstd|ssh, start --checkpoint)',
  'save-copy': 'without migrate: SAVE, docker stop, copy the volume, docker run on B',
};
const MIGRATE_ROWS: RowId[] = ['auto', 'cold', 'postcopy'];

interface Options { sizes: number[]; runs: number; rows: RowId[]; outDir: string; argv: string[] }

interface Service { name: string; volume: string; port: number; runArgs: string[]; usedMemory: number }

interface Record_ {
  sizeMib: number; row: RowId; run: number; loadavg: string;
  /** The move finished and the client was answered from B afterwards. */
  moved: boolean;
  usedMemory: number;
  longestGapMs?: number;
  /** When the longest gap began, relative to the move's start (ms; negative: before it). */
  gapStartsAfterMs?: number;
  acked?: number;
  lostAcked?: number;
  reconnects?: number;
  /** The controller's figures: migrate's freeze, the whole move's wall clock. */
  freezeMs?: number;
  moveMs?: number;
  strategy?: string;
  error?: Record<string, unknown> | string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string' }, runs: { type: 'string' }, rows: { type: 'string' }, out: { type: 'string' }, prefetch: { type: 'string' } } });
  prefetch = prefetchOf(values.prefetch);
  const sizes = (values.sizes ?? '256,1024').split(',').map(Number);
  const rows = (values.rows ?? 'auto,cold,postcopy,docker,save-copy').split(',') as RowId[];
  for (const r of rows) if (!(r in ROW_NAMES)) fail(`unknown row ${r}: one of ${Object.keys(ROW_NAMES).join(', ')}`);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) fail('--sizes: whole MiB, comma-separated');
  return { sizes, runs: Number(values.runs ?? 1), rows, outDir: values.out ?? join(ROOT, 'bench/results'), argv };
}

let seq = 0;
/** `--prefetch`: what migrate's post-copy moves pass (the library's default when not given). */
let prefetch: PrefetchMode | undefined;

/** Redis on A with `mib` MiB of data, a named volume on /data and a published port free on both hosts. */
async function startService(h: BaselineHosts, mib: number): Promise<Service> {
  const name = `svc-${process.pid}-${++seq}`;
  const volume = `${name}-data`;
  for (let tries = 0; ; tries++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const runArgs = ['--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined', '-v', `${volume}:/data`, '--publish', `${port}:6379`, IMAGE];
    const busyOnB = (await h.b.exec(['sh', '-c', `ss -Htln "sport = :${port}" | grep -q .`], { allowFailure: true })).exitCode === 0;
    const r = busyOnB ? undefined : await h.a.exec(['docker', 'run', '-d', ...runArgs], { allowFailure: true });
    if (r?.exitCode === 0) {
      await waitForPing(h.a, name);
      const keys = Math.round((mib * 1024 * 1024) / BYTES_PER_KEY);
      await redisCli(h.a, name, 'DEBUG', 'POPULATE', String(keys), 'key', String(VALUE_BYTES));
      const usedMemory = Number(/used_memory:(\d+)/.exec(await redisCli(h.a, name, 'INFO', 'memory'))?.[1] ?? 0);
      return { name, volume, port, runArgs, usedMemory };
    }
    await h.a.exec(['docker', 'rm', '-f', '-v', name], { allowFailure: true });
    if (tries >= 5 || (r && !/port is already allocated|address already in use/i.test(r.stderr))) fail(`docker run ${name} on A failed: ${r?.stderr ?? 'no free port'}`);
  }
}

async function waitForPing(t: Transport, name: string, ms = 120_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await redisCli(t, name, 'PING').catch(() => '')) === 'PONG') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`Redis ${name} on ${t.name} did not answer PING within ${ms / 1000} s`);
}

async function removeService(h: BaselineHosts, s: Service): Promise<void> {
  for (const t of [h.a, h.b]) {
    await t.exec(['docker', 'rm', '-f', '-v', s.name], { allowFailure: true });
    await t.exec(['docker', 'volume', 'rm', '-f', s.volume], { allowFailure: true });
  }
}

/** Waits until the client got `n` more replies (or `ms` passed). */
async function acks(client: ReturnType<typeof incrClient>, n: number, ms: number): Promise<boolean> {
  const want = client.acked() + n;
  const until = Date.now() + ms;
  while (client.acked() < want) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

interface Moved { freezeMs?: number; strategy?: string; report?: MigrationReport }

/** The moves, each from A (running `s`) to B (running it afterwards). */
const MOVES: Record<RowId, (h: BaselineHosts, s: Service) => Promise<Moved>> = {
  auto: (h, s) => migrateMove(h, s, 'auto'),
  cold: (h, s) => migrateMove(h, s, 'cold'),
  postcopy: (h, s) => migrateMove(h, s, 'postcopy'),
  docker: async (h, s) => {
    try {
      const m = await dockerBaselineMove(h, s.name, s.runArgs);
      return { freezeMs: m.freeze_ms };
    } catch (e) {
      // Docker says only "criu failed"; CRIU's own log says why.
      const log = /(\/\S+\/criu-dump\.log)/.exec(String(e))?.[1];
      const why = log ? await out(h.a, ['sh', '-c', 'grep -E "Error|consider" "$1" | tail -n 3', 'why', log]).catch(() => '') : '';
      throw new Error(`${e instanceof Error ? e.message.split('\n').slice(-2).join(' ') : String(e)}${why ? ` — CRIU: ${why.replace(/\n/g, ' | ')}` : ''}`);
    }
  },
  'save-copy': async (h, s) => {
    await redisCli(h.a, s.name, 'SAVE');
    await h.a.exec(['docker', 'stop', s.name]);
    const src = await out(h.a, ['docker', 'volume', 'inspect', '--format', '{{.Mountpoint}}', s.volume]);
    await h.b.exec(['docker', 'volume', 'create', s.volume]);
    const dst = await out(h.b, ['docker', 'volume', 'inspect', '--format', '{{.Mountpoint}}', s.volume]);
    await sendOverOpenSsh(h, src, dst);
    await h.b.exec(['docker', 'run', '-d', ...s.runArgs]);
    return {};
  },
};

async function migrateMove(h: BaselineHosts, s: Service, strategy: 'auto' | 'cold' | 'postcopy'): Promise<Moved> {
  const report = await migrate({ container: s.name, source: h.a, target: h.b, strategy, tcp: 'close', ...(prefetch ? { prefetch } : {}) });
  if (report.outcome !== 'migrated') throw new Error(`migrate: ${report.outcome}`);
  return { freezeMs: report.freeze_ms ?? undefined, strategy: report.strategy, report };
}

async function runOnce(h: BaselineHosts, row: RowId, mib: number, run: number): Promise<Record_> {
  const s = await startService(h, mib);
  const rec: Record_ = { sizeMib: mib, row, run, loadavg: loadavg(), moved: false, usedMemory: s.usedMemory };
  const client = incrClient([HOSTS.a, HOSTS.b], s.port, 'n', 1);
  let log: IncrLog | undefined;
  try {
    if (!(await acks(client, 1000, 30_000))) throw new Error('the client got no replies from A before the move');
    const started = nowMs();
    const m = await MOVES[row](h, s);
    rec.moveMs = Math.round(nowMs() - started);
    rec.freezeMs = m.freezeMs;
    rec.strategy = m.strategy;
    // The move is over for the client once B has answered it for a while.
    const answered = await acks(client, SETTLE_ACKS, 180_000);
    log = await client.stop();
    if (!answered) throw new Error('the client was not answered again within 180 s of the move');
    const final = Number(await redisCli(h.b, s.name, 'GET', 'n'));
    rec.moved = true;
    rec.longestGapMs = log.longestGapMs;
    rec.gapStartsAfterMs = Math.round(log.longestGapFrom - started);
    rec.acked = log.acked.length;
    rec.lostAcked = lostAcknowledged(log.acked, final);
    rec.reconnects = log.reconnects;
  } catch (e) {
    rec.error = errorJson(e) ?? String(e);
  } finally {
    if (!log) await client.stop();
    await removeService(h, s);
  }
  return rec;
}

interface Cell { sizeMib: number; row: RowId; n: number; gap?: number; gapMax?: number; lost: number; freeze?: number; move?: number; failed: number }

function summarize(records: Record_[], o: Options): Cell[] {
  return o.sizes.flatMap((sizeMib) => o.rows.map((row) => {
    const rs = records.filter((r) => r.sizeMib === sizeMib && r.row === row);
    const ok = rs.filter((r) => r.moved);
    const med = (f: (r: Record_) => number | undefined) => medianOf(ok.map(f));
    return {
      sizeMib, row, n: ok.length, failed: rs.length - ok.length,
      gap: med((r) => r.longestGapMs), gapMax: ok.length ? Math.max(...ok.map((r) => r.longestGapMs!)) : undefined,
      lost: ok.reduce((n, r) => n + r.lostAcked!, 0), freeze: med((r) => r.freezeMs), move: med((r) => r.moveMs),
    };
  }));
}

function verdict(cells: Cell[]): { pass: boolean; lines: string[] } {
  const at = cells.filter((c) => c.sizeMib === TARGET_MIB);
  const alt = at.find((c) => c.row === 'save-copy')?.gap;
  const lines: string[] = [];
  let pass = at.length > 0 && alt !== undefined;
  if (alt === undefined) lines.push(`no save-stop-copy-start figure at ${TARGET_MIB} MiB: the target cannot be judged`);
  for (const c of at.filter((x) => MIGRATE_ROWS.includes(x.row))) {
    const ok = c.gap !== undefined && alt !== undefined && c.gap <= alt * TARGET_RATIO && c.lost === 0 && c.failed === 0;
    pass &&= ok;
    lines.push(`${ok ? 'PASS' : 'FAIL'} ${ROW_NAMES[c.row]} at ${TARGET_MIB} MiB: longest gap ${c.gap === undefined ? DASH : sec(c.gap)} s`
      + ` (target ≤ ${alt === undefined ? DASH : sec(alt * TARGET_RATIO)} s = ${TARGET_RATIO} × save-stop-copy-start), acknowledged writes lost ${c.lost}, failed moves ${c.failed}`);
  }
  return { pass, lines };
}

function markdown(command: string, facts: HostFacts, cells: Cell[], records: Record_[], v: { lines: string[] }): string {
  const row = (c: Cell) => `| ${c.sizeMib} | ${cell(ROW_NAMES[c.row])} | ${c.n}${c.failed ? ` (+${c.failed} failed)` : ''} | ${c.gap === undefined ? DASH : sec(c.gap)} | ${c.gapMax === undefined ? DASH : sec(c.gapMax)} | ${c.lost} | ${c.freeze === undefined ? DASH : sec(c.freeze)} | ${c.move === undefined ? DASH : sec(c.move)} |`;
  const failures = records.filter((r) => !r.moved).map((r) => `- ${r.sizeMib} MiB, ${ROW_NAMES[r.row]}, run ${r.run}: ${cell(typeof r.error === 'string' ? r.error : JSON.stringify(r.error))}`);
  return `# What a service's clients see while it moves (\`npm run bench:service\`)\n\n${factsMarkdown(command, facts)}\n`
    + `Redis (Debian's package) with N MiB of data (DEBUG POPULATE, ${VALUE_BYTES}-byte values), a named volume on /data and a published port; `
    + 'one client INCRs once per millisecond through the published port, one request at a time, with a 1 s reply timeout, reconnecting to whichever host answers. '
    + '"Longest gap": the longest time between two successful replies, as the client saw it. "Lost": acknowledged INCRs the service no longer holds: where the values of the replies went back (the counter restarted below what was acknowledged, later INCRs counting past it again), plus acknowledged values above the final value of the counter on B. '
    + '"Freeze" is the controller\'s figure (migrate\'s report; the Docker workflow from checkpoint until B runs); "move": the whole move by the controller\'s clock.\n\n'
    + '| MiB | way | runs | longest gap (s, median) | longest gap (s, max) | acknowledged writes lost | freeze (s) | move (s) |\n|---|---|---|---|---|---|---|---|\n'
    + cells.map(row).join('\n') + '\n\n![longest gap by way and size](service.svg)\n\n'
    + `Target (issue 20): at ${TARGET_MIB} MiB, migrate's longest gap ≤ ${TARGET_RATIO} × save-stop-copy-start's, no acknowledged write lost.\n\n`
    + v.lines.map((l) => `- ${l}`).join('\n') + '\n'
    + (failures.length ? `\nMoves that did not complete:\n\n${failures.join('\n')}\n` : '');
}

function chart(cells: Cell[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Longest gap a Redis client saw while the service moved (median)',
    data: { values: cells.filter((c) => c.gap !== undefined).map((c) => ({ way: ROW_NAMES[c.row], size: `${c.sizeMib} MiB`, gap: c.gap! / 1000 })) },
    width: 420,
    height: 260,
    mark: 'bar',
    encoding: {
      y: { field: 'way', type: 'nominal', title: null, axis: { labelLimit: 420 } },
      x: { field: 'gap', type: 'quantitative', title: 'Longest gap between replies (s, log scale)', scale: { type: 'log' } },
      yOffset: { field: 'size', type: 'nominal' },
      color: { field: 'size', type: 'nominal', title: 'Dataset' },
    },
  } as TopLevelSpec;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const { lab, a, b } = labHosts();
  try {
    const h: BaselineHosts = { lab, a, b, rootA: await dockerRoot(a), rootB: await dockerRoot(b) };
    if ((await a.exec(['docker', 'image', 'inspect', IMAGE], { allowFailure: true })).exitCode !== 0) fail(`no ${IMAGE} on A: run bash lab/image/redis.sh unix:///var/run/docker.sock`);
    const facts = await hostFacts(a, b);
    const records: Record_[] = [];
    // Round-robin over the rows within each size and run, so load drift hits every way alike.
    for (const mib of o.sizes) {
      for (let run = 1; run <= o.runs; run++) {
        for (const row of o.rows) {
          const r = await runOnce(h, row, mib, run);
          records.push(r);
          console.error(`${mib} MiB ${row} run ${run}: ${r.moved ? `gap ${r.longestGapMs} ms, lost ${r.lostAcked}, freeze ${r.freezeMs ?? DASH} ms, move ${r.moveMs} ms` : `FAILED ${JSON.stringify(r.error)}`}`);
        }
      }
    }
    const cells = summarize(records, o);
    const v = verdict(cells);
    const command = commandLine('bench:service', 'dist/bench/service.js', o.argv);
    mkdirSync(o.outDir, { recursive: true });
    writeFileSync(join(o.outDir, 'service.json'), JSON.stringify({ meta: { command, ...facts, sizesMib: o.sizes, runs: o.runs, valueBytes: VALUE_BYTES }, cells, records }, null, 1) + '\n');
    writeFileSync(join(o.outDir, 'service.md'), markdown(command, facts, cells, records, v));
    writeFileSync(join(o.outDir, 'service.svg'), await renderSvg(chart(cells)));
    for (const l of v.lines) console.log(l);
    process.exitCode = v.pass ? 0 : 1;
  } finally {
    await b.close();
  }
}

await main();
