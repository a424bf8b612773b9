/**
 * How fast CRIU's own lazy-pages daemon fills memory, without migrate (issue 20: the post-copy
 * window). A memload tree of N MiB (idle) on lab host A is dumped with `criu dump --lazy-pages`,
 * its copy restored with `criu restore --lazy-pages`, and a lazy-pages daemon pulls every page
 * from the dump's page server over TLS (lib/criu-floor.ts):
 *
 * - loopback: daemon and copy on A, the page server on 127.0.0.1;
 * - link: daemon and copy on B, the page server on A's address on the lab link (a veth pair),
 *   at each MTU of --mtu (set on both ends for the run, then put back).
 *
 * The figure is the fill: from the restore's return until the daemon had every page and it and
 * the page server exited. migrate is not involved: it is the daemon's own pace for that path.
 *
 * Run: npm run bench:daemon-pull [-- --mib 1024 --runs 3 --mtu 1500,9000,65535 --out DIR]
 * Needs the lab (bash lab/lab.sh up) to itself. Writes bench/results/daemon-pull.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorJson, type Transport } from '../src/index.js';
import { measureCriuFloor, type CriuFloor, type FloorPlace } from './lib/criu-floor.js';
import { fail } from './lib/fail.js';
import { DASH, sec } from './lib/format.js';
import { commandLine, factsMarkdown, hostFacts, loadavg } from './lib/host-facts.js';
import { labHosts, ROOT, routeTo, targetAddress } from './lib/lab.js';
import { removeTree, startTree } from './lib/memload-tree.js';
import { spreadOf } from './lib/stats.js';

interface Options { mib: number; runs: number; mtus: number[]; outDir: string; argv: string[] }

interface Run { path: string; mtu?: number; run: number; ok: boolean; loadavg: string; floor?: CriuFloor; error?: unknown }

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { mib: { type: 'string' }, runs: { type: 'string' }, mtu: { type: 'string' }, out: { type: 'string' } } });
  const mtus = values.mtu === undefined ? [] : values.mtu.split(',').map(Number);
  if (!mtus.every((m) => Number.isInteger(m) && m >= 576 && m <= 65535)) fail(`--mtu wants MTUs like 1500,9000, got ${values.mtu}`);
  const mib = Number(values.mib ?? 1024);
  const runs = Number(values.runs ?? 3);
  if (!(mib > 0) || !(runs > 0)) fail('--mib and --runs want positive numbers');
  return { mib, runs, mtus, outDir: values.out ?? join(ROOT, 'bench/results'), argv };
}

const mtuOf = async (t: Transport, dev: string): Promise<number> => Number(/ mtu (\d+)/.exec((await t.exec(['ip', '-o', 'link', 'show', dev])).stdout)?.[1]);
const setMtu = (t: Transport, dev: string, mtu: number) => t.exec(['ip', 'link', 'set', 'dev', dev, 'mtu', String(mtu)]);

let seq = 0;

async function once(a: Transport, o: Options, path: string, run: number, place?: FloorPlace, mtu?: number): Promise<Run> {
  const rec: Run = { path, ...(mtu === undefined ? {} : { mtu }), run, ok: false, loadavg: loadavg() };
  const tree = await startTree(a, { mib: o.mib, tickMs: 20, seed: process.pid * 100 + ++seq }, 120_000);
  try {
    rec.floor = await measureCriuFloor(a, tree.pid, tree.dir, place);
    if (rec.floor.fillMs === undefined) throw new Error(`the daemon did not fill the memory: ${rec.floor.fillFailed}`);
    rec.ok = true;
  } catch (e) {
    rec.error = errorJson(e) ?? String(e);
  } finally {
    await removeTree(tree, a, ...(place ? [place.on] : []));
  }
  return rec;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const { lab, a, b } = labHosts();
  const command = commandLine('bench:daemon-pull', 'dist/bench/daemon-pull.js', o.argv);
  try {
    const facts = await hostFacts(a, b);
    const onA = await routeTo(a, targetAddress(lab));
    const onB = await routeTo(b, onA.src);
    const mtuA = await mtuOf(a, onA.dev);
    const mtuB = await mtuOf(b, onB.dev);
    const mtus = o.mtus.length ? o.mtus : [mtuA];
    const runs: Run[] = [];
    try {
      for (let run = 1; run <= o.runs; run++) {
        const lo = await once(a, o, 'loopback', run);
        console.log(`loopback run ${run}: ${lo.ok ? `fill ${lo.floor!.fillMs} ms` : JSON.stringify(lo.error)}`);
        runs.push(lo);
        for (const mtu of mtus) {
          await setMtu(a, onA.dev, mtu);
          await setMtu(b, onB.dev, mtu);
          const r = await once(a, o, 'link', run, { on: b, address: onA.src }, mtu);
          console.log(`link MTU ${mtu} run ${run}: ${r.ok ? `fill ${r.floor!.fillMs} ms` : JSON.stringify(r.error)}`);
          runs.push(r);
        }
      }
    } finally {
      await setMtu(a, onA.dev, mtuA);
      await setMtu(b, onB.dev, mtuB);
    }
    const rows = [{ path: 'loopback', mtu: undefined as number | undefined }, ...mtus.map((mtu) => ({ path: 'link', mtu }))].map(({ path, mtu }) => {
      const mine = runs.filter((r) => r.path === path && r.mtu === mtu);
      const fills = spreadOf(mine.filter((r) => r.ok).map((r) => r.floor!.fillMs!));
      const rate = fills ? ((o.mib * 2 ** 20) / 1e6 / (fills.median / 1e3)).toFixed(0) : DASH;
      const where = path === 'loopback' ? 'daemon and copy on A, page server on 127.0.0.1' : `daemon and copy on B, page server on A's ${onA.src} (${onA.dev}), MTU ${mtu}${mtu === mtuA ? ' (the lab\'s)' : ''}`;
      return `| ${where} | ${mine.filter((r) => r.ok).length} / ${mine.length} | ${fills ? sec(fills.median) : DASH} | ${fills ? `${sec(fills.min)}–${sec(fills.max)}` : DASH} | ${rate} |`;
    });
    const each = runs.map((r) => `| ${r.path} | ${r.mtu ?? DASH} | ${r.run} | ${r.ok ? 'ok' : `failed: ${JSON.stringify(r.error).slice(0, 160)}`} | ${r.floor?.fillMs === undefined ? DASH : sec(r.floor.fillMs)} | ${r.floor ? `${r.floor.dumpMs} / ${r.floor.daemonMs} / ${r.floor.restoreMs}` : DASH} | ${r.loadavg} |`);
    const md = `# CRIU's lazy-pages daemon filling memory without migrate (\`npm run bench:daemon-pull\`)\n\n${factsMarkdown(command, facts)}\n`
      + `A memload tree with ${o.mib} MiB resident (idle) on A, dumped with \`criu dump --lazy-pages\` (its page server with TLS, as migrate runs it), its copy restored with \`criu restore --lazy-pages\` and filled by \`criu lazy-pages\` pulling from that page server (bench/lib/criu-floor.ts). `
      + `Fill: from the restore's return until the daemon had every page and it and the page server exited. No migrate anywhere. ${o.runs} run(s) per row, round-robin; the link's MTU set on both ends for its rows and put back (${mtuA}) after.\n\n`
      + '| path | filled / runs | fill median (s) | min–max (s) | MB/s |\n|---|---|---|---|---|\n' + rows.join('\n') + '\n\n'
      + '## Every run\n\n| path | MTU | run | result | fill (s) | dump / daemon / restore (ms) | load |\n|---|---|---|---|---|---|---|\n' + each.join('\n') + '\n';
    mkdirSync(o.outDir, { recursive: true });
    writeFileSync(join(o.outDir, 'daemon-pull.json'), JSON.stringify({ meta: { command, ...facts, mib: o.mib, runs: o.runs, mtus, labMtu: mtuA }, runs }, null, 1) + '\n');
    writeFileSync(join(o.outDir, 'daemon-pull.md'), md);
    console.log(rows.join('\n'));
    if (runs.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    await b.close();
  }
}

await main();
