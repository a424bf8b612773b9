/**
 * The post-copy window against cold's page stream (issue 20): a memload container with N MiB
 * resident (idle, and rewriting D MiB/s) moved A → B, for each page channel (ssh: through the
 * SSH connections and the controller's relay; direct: CRIU's TLS connection between the hosts):
 *
 * - cold, pages to a page server on B, eager restore: the page stream's time is CRIU's own
 *   `memwrite` time from the dump's stats (writing every page into the page server);
 * - postcopy: the window is `postcopy_ms`, from the restore until the target's lazy-pages daemon
 *   has every page (the memory lives on both hosts meanwhile), with the prefetcher on B pulling
 *   ahead of the daemon (`--prefetch auto`);
 * - postcopy-alone: the same with `--prefetch off` (the default), CRIU's daemon pulling by itself.
 * - direct only, both again with `--page-forwarder off`: A's page server on the link itself, not
 *   behind the page forwarder (transfer/page-forwarder.ts, the default).
 *
 * The target: window ≤ 1.25 × cold's stream, for the same memory, channel and dirty rate, in the
 * same run. Every move is checked: the container's ticks go on with the next number on B.
 *
 * CRIU's own window for the same memory, in the same run: a memload tree of N MiB (idle) dumped
 * lazily on A and filled by a lazy-pages daemon pulling over TLS, no migrate (lib/criu-floor.ts's
 * fillMs): with the daemon and the copy on B across the lab link (as the direct channel runs it),
 * and on A over loopback.
 *
 * Then a small process tree (--tree-mib) moved post-copy per channel: its freeze beside CRIU's
 * floor measured in the same run (lazy dump + lazy restore of the same kind of tree on A alone:
 * lib/criu-floor.ts); issue 20: a tree's freeze within 100 ms of that floor.
 *
 * Run: npm run bench:window [-- --mib 1024 --dirty 0,10 --channels ssh,direct --runs 2 --tree-mib 64]
 * (--mib 0: the tree only; --tree-mib 0: no tree)
 * Needs the lab (bash lab/lab.sh up). Writes bench/results/postcopy-window.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorJson, migrate, type MigrationReport, type PageChannelMode, type Transport } from '../src/index.js';
import { fail } from './lib/fail.js';
import { DASH, sec } from './lib/format.js';
import { commandLine, factsMarkdown, hostFacts, loadavg, type HostFacts } from './lib/host-facts.js';
import { labHosts, ROOT, routeTo, targetAddress } from './lib/lab.js';
import { containerArgs, containerTicks, removeContainer } from './lib/memload-container.js';
import { continuous, waitForTicks } from './lib/memload.js';
import { removeTree, startTree } from './lib/memload-tree.js';
import { measureCriuFloor, type CriuFloor, type FloorPlace } from './lib/criu-floor.js';
import { medianOf } from './lib/stats.js';
import { ROLES, startCpuSampler, type CpuSampler, type CpuUse, type Role } from './lib/cpu-use.js';

const TARGET_RATIO = 1.25;
/** Issue 20: a tree's post-copy freeze within this of CRIU's floor. */
const FLOOR_MARGIN_MS = 100;
const TICK_MS = 20;

/**
 * postcopy: with the prefetcher on B (`--prefetch auto`); postcopy-alone: `--prefetch off`, CRIU's
 * daemon pulling by itself. Direct, both go through the page forwarder on A (the default); the
 * `-unforwarded` kinds, direct only, move with `--page-forwarder off` (A's page server on the link).
 */
type Kind = 'cold' | 'postcopy' | 'postcopy-alone' | 'postcopy-unforwarded' | 'postcopy-alone-unforwarded';
const KINDS: readonly Kind[] = ['cold', 'postcopy', 'postcopy-alone', 'postcopy-unforwarded', 'postcopy-alone-unforwarded'];
const prefetched = (k: Kind) => k === 'postcopy' || k === 'postcopy-unforwarded';
const unforwarded = (k: Kind) => k.endsWith('-unforwarded');
const kindsFor = (channel: Channel) => KINDS.filter((k) => channel === 'direct' || !unforwarded(k));
type Channel = Exclude<PageChannelMode, 'auto'>;

interface Options { mib: number; dirty: number[]; channels: Channel[]; runs: number; treeMib: number; outDir: string; argv: string[] }

/** A process tree's post-copy freeze and CRIU's own share of it. */
interface TreeMove {
  channel: Channel; run: number; ok: boolean;
  freezeMs?: number; criuRestoreMs?: number; phases?: Record<string, number | undefined>;
  /** The report's freeze_start: its freeze counts from CRIU's freeze, `command_ms` after the dump command's issue. */
  freezeStart?: MigrationReport['freeze_start'];
  error?: Record<string, unknown> | string;
}

/** CRIU's floor for the same tree, on A alone (bench/lib/criu-floor.ts). */
interface FloorRun { run: number; ok: boolean; path?: 'loopback' | 'link'; floor?: CriuFloor; error?: Record<string, unknown> | string }

interface Move {
  kind: Kind; channel: Channel; dirty: number; run: number; loadavg: string;
  ok: boolean;
  freezeMs?: number;
  /** cold: CRIU's memwrite time (the page stream); postcopy: the window. */
  streamMs?: number;
  checkpointMs?: number;
  pages?: number;
  /** postcopy: pages placed on demand (faults) and in the background. */
  onDemand?: number;
  background?: number;
  pageChannel?: string;
  /** postcopy: the prefetcher's figures (pages there when the daemon asked, ...). */
  prefetch?: MigrationReport['prefetch'];
  forwarder?: MigrationReport['page_forwarder'];
  /**
   * Where the machine's CPU went (lib/cpu-use.ts; both lab hosts are this machine): post-copy,
   * over the window (from the step 'postcopy' until its progress is done); cold, over the dump
   * (from the move's start until the memory's progress is done).
   */
  cpu?: CpuUse;
  error?: Record<string, unknown> | string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { mib: { type: 'string' }, dirty: { type: 'string' }, channels: { type: 'string' }, runs: { type: 'string' }, 'tree-mib': { type: 'string' }, out: { type: 'string' } } });
  const channels = (values.channels ?? 'ssh,direct').split(',') as Channel[];
  for (const c of channels) if (c !== 'ssh' && c !== 'direct') fail(`--channels: ssh and/or direct, not ${c}`);
  return {
    mib: Number(values.mib ?? 1024), dirty: (values.dirty ?? '0,10').split(',').map(Number), channels,
    runs: Number(values.runs ?? 2), treeMib: Number(values['tree-mib'] ?? 64), outDir: values.out ?? join(ROOT, 'bench/results'), argv,
  };
}

let seq = 0;

async function moveOnce(a: Transport, b: Transport, image: string, o: Options, kind: Kind, channel: Channel, dirty: number, run: number): Promise<Move> {
  const name = `window-${process.pid}-${++seq}`;
  const rec: Move = { kind, channel, dirty, run, loadavg: loadavg(), ok: false };
  try {
    await a.exec(['docker', 'run', '-d', ...containerArgs(image, name, { mib: o.mib, dirty, tickMs: TICK_MS })]);
    // memload prints its first tick once its memory is filled.
    await waitForTicks(() => containerTicks(a, name), 5, 180_000, `${name} on A`);
    let sampler: CpuSampler | undefined = kind === 'cold' ? startCpuSampler() : undefined;
    const stopSampler = () => { if (sampler) rec.cpu = sampler.stop(); sampler = undefined; };
    const report: MigrationReport = await migrate({
      onEvent: (e) => {
        if (kind !== 'cold' && e.kind === 'step' && e.step === 'postcopy' && !rec.cpu) sampler ??= startCpuSampler();
        if (e.kind === 'progress' && e.done && e.what === (kind === 'cold' ? 'memory' : 'postcopy')) stopSampler();
      },
      container: name, source: a, target: b, strategy: kind === 'cold' ? 'cold' : 'postcopy', pages: 'page-server', pageChannel: channel,
      ...(kind === 'cold' ? { restore: 'eager' as const } : { prefetch: prefetched(kind) ? 'auto' as const : 'off' as const, pageForwarder: unforwarded(kind) ? 'off' as const : 'auto' as const }),
    }).finally(stopSampler);
    if (!rec.cpu) throw new Error('no CPU figures: the move emitted no step \'postcopy\' event');
    rec.freezeMs = report.freeze_ms ?? undefined;
    rec.checkpointMs = report.phases_ms.checkpoint;
    rec.pageChannel = report.page_channel;
    rec.pages = report.criu.dump?.pagesWritten;
    if (kind === 'cold') rec.streamMs = report.criu.dump ? report.criu.dump.memwriteTimeUs / 1000 : undefined;
    else {
      rec.streamMs = report.postcopy_ms;
      rec.onDemand = report.lazy_pages?.on_demand;
      rec.background = report.lazy_pages?.background;
      rec.pages = report.lazy_pages?.total;
      rec.prefetch = report.prefetch;
      rec.forwarder = report.page_forwarder;
      if (report.prefetch?.used !== prefetched(kind)) throw new Error(`prefetcher ${report.prefetch?.used ? 'used' : 'not used'} (${report.prefetch?.reason})`);
      if (channel === 'direct' && report.page_forwarder?.used !== !unforwarded(kind)) throw new Error(`page forwarder ${report.page_forwarder?.used ? 'used' : 'not used'} (${report.page_forwarder?.reason})`);
    }
    if (report.outcome !== 'migrated') throw new Error(`outcome ${report.outcome}`);
    if (report.page_channel !== channel) throw new Error(`asked for ${channel}, the report says ${report.page_channel} (${report.page_channel_reason})`);
    // Docker keeps the log of A's container with the twin on B: one continuous count, going on.
    const before = (await containerTicks(b, name)).length;
    await new Promise((r) => setTimeout(r, 10 * TICK_MS));
    const ticks = await containerTicks(b, name);
    if (ticks.length <= before || !continuous(ticks)) throw new Error(`ticks on B do not go on continuously (${before} then ${ticks.length} lines)`);
    rec.ok = true;
  } catch (e) {
    rec.error = errorJson(e) ?? String(e);
  } finally {
    await removeContainer(name, a, b);
  }
  return rec;
}

/** CRIU alone on A (the daemon over loopback), or with the daemon and the copy `place`d on B across the lab link. */
async function floorOnce(a: Transport, mib: number, run: number, place?: FloorPlace): Promise<FloorRun> {
  const rec: FloorRun = { run, ok: false, ...(place ? { path: 'link' as const } : { path: 'loopback' as const }) };
  const tree = await startTree(a, { mib, tickMs: TICK_MS, seed: process.pid * 100 + ++seq }, 120_000);
  try {
    rec.floor = await measureCriuFloor(a, tree.pid, tree.dir, place);
    rec.ok = true;
  } catch (e) {
    rec.error = errorJson(e) ?? String(e);
  } finally {
    await removeTree(tree, a, ...(place ? [place.on] : [])); // the stopped original and its restored copy: the same command line
  }
  return rec;
}

async function treeOnce(a: Transport, b: Transport, mib: number, channel: Channel, run: number): Promise<TreeMove> {
  const rec: TreeMove = { channel, run, ok: false };
  const tree = await startTree(a, { mib, tickMs: TICK_MS, seed: process.pid * 100 + ++seq }, 60_000);
  try {
    const report = await migrate({ pid: tree.pid, source: a, target: b, strategy: 'postcopy', pageChannel: channel });
    if (report.outcome !== 'migrated') throw new Error(`outcome ${report.outcome}`);
    rec.freezeMs = report.freeze_ms ?? undefined;
    rec.freezeStart = report.freeze_start;
    rec.criuRestoreMs = report.criu.restore ? report.criu.restore.restoreTimeUs / 1000 : undefined;
    rec.phases = { ...report.phases_ms };
    rec.ok = true;
  } catch (e) {
    rec.error = errorJson(e) ?? String(e);
  } finally {
    await removeTree(tree, a, b);
  }
  return rec;
}

/**
 * `inPlace`: from the freeze's start until every page is in the target's memory — cold's freeze
 * (its restore places the pages), post-copy's freeze + window. The window also places the pages
 * (the daemon's UFFDIO_COPY), which cold pays after its stream.
 */
interface Cell {
  channel: Channel; dirty: number; coldMs?: number; windowMs?: number; aloneMs?: number; ratio?: number; aloneRatio?: number;
  /** Against TARGET_RATIO: with the prefetcher (pass) and without it, the default (passAlone). */
  pass?: boolean; passAlone?: boolean;
  /** Direct, `--page-forwarder off`: the window with and without the prefetcher. */
  unforwardedMs?: number; aloneUnforwardedMs?: number;
  coldInPlaceMs?: number; postcopyInPlaceMs?: number; inPlaceRatio?: number;
}

function cellsOf(o: Options, moves: Move[]): Cell[] {
  const m = (kind: Kind, channel: Channel, dirty: number, g: (x: Move) => number | undefined) =>
    medianOf(moves.filter((x) => x.ok && x.kind === kind && x.channel === channel && x.dirty === dirty).map(g));
  const inPlace = (x: Move) => (x.freezeMs === undefined ? undefined : x.kind === 'cold' ? x.freezeMs : x.streamMs === undefined ? undefined : x.freezeMs + x.streamMs);
  return o.channels.flatMap((channel) => o.dirty.map((dirty) => {
    const coldMs = m('cold', channel, dirty, (x) => x.streamMs);
    const windowMs = m('postcopy', channel, dirty, (x) => x.streamMs);
    const ratio = coldMs && windowMs ? windowMs / coldMs : undefined;
    const aloneMs = m('postcopy-alone', channel, dirty, (x) => x.streamMs);
    const aloneRatio = coldMs && aloneMs ? aloneMs / coldMs : undefined;
    const unforwardedMs = m('postcopy-unforwarded', channel, dirty, (x) => x.streamMs);
    const aloneUnforwardedMs = m('postcopy-alone-unforwarded', channel, dirty, (x) => x.streamMs);
    const coldInPlaceMs = m('cold', channel, dirty, inPlace);
    const postcopyInPlaceMs = m('postcopy', channel, dirty, inPlace);
    const inPlaceRatio = coldInPlaceMs && postcopyInPlaceMs ? postcopyInPlaceMs / coldInPlaceMs : undefined;
    return { channel, dirty, coldMs, windowMs, aloneMs, ratio, aloneRatio, pass: ratio === undefined ? undefined : ratio <= TARGET_RATIO, passAlone: aloneRatio === undefined ? undefined : aloneRatio <= TARGET_RATIO, unforwardedMs, aloneUnforwardedMs, coldInPlaceMs, postcopyInPlaceMs, inPlaceRatio };
  }));
}

function treeMarkdown(o: Options, trees: TreeMove[], floors: FloorRun[]): string {
  if (!trees.length) return '';
  const f = (x: number | undefined) => (x === undefined ? DASH : x.toFixed(0));
  const okFloors = floors.filter((x) => x.ok).map((x) => x.floor!);
  const fm = (g: (x: CriuFloor) => number | undefined) => medianOf(okFloors.map(g));
  const floorMs = fm((x) => x.frozenMs);
  const commandFloorMs = fm((x) => x.totalMs);
  const rows = o.channels.map((channel) => {
    const ok = trees.filter((x) => x.ok && x.channel === channel);
    const m = (g: (x: TreeMove) => number | undefined) => medianOf(ok.map(g));
    const phase = (k: string) => m((x) => x.phases?.[k]);
    // Like with like: the report's freeze (from CRIU's freeze) against the floor from CRIU's freeze.
    const fromCriu = ok.every((x) => x.freezeStart?.from === 'criu');
    const freeze = fromCriu ? m((x) => x.freezeMs) : undefined;
    const fromCommand = m((x) => (x.freezeMs === undefined ? undefined : x.freezeMs + (x.freezeStart?.command_ms ?? 0)));
    const over = freeze === undefined || floorMs === undefined ? undefined : freeze - floorMs;
    const overCommand = fromCommand === undefined || commandFloorMs === undefined ? undefined : fromCommand - commandFloorMs;
    return `| ${channel} | ${ok.length}/${trees.filter((x) => x.channel === channel).length} | ${f(freeze)} | ${f(over)} | ${over === undefined ? DASH : over <= FLOOR_MARGIN_MS ? 'pass' : 'FAIL'} | ${f(fromCommand)} | ${f(overCommand)} | ${f(phase('checkpoint'))} | ${f(phase('transfer'))} | ${f(phase('restore'))} | ${f(m((x) => x.criuRestoreMs))} |`;
  });
  const floorText = `\nCRIU's floor, measured in the same run on A alone (no migrate, no second host; bench/lib/criu-floor.ts): \`criu dump --lazy-pages\` until its page server listens, a lazy-pages daemon pulling over loopback TLS, \`criu restore --lazy-pages\` until it returned, back to back. `
    + `Median of ${okFloors.length} of ${floors.length}: ${f(floorMs)} ms from CRIU's freeze (as its dump's log says, as migrate's report counts), ${f(commandFloorMs)} ms from the dump command's start (dump ${f(fm((x) => x.dumpMs))}, daemon ${f(fm((x) => x.daemonMs))}, restore ${f(fm((x) => x.restoreMs))}). Target: freeze ≤ floor + ${FLOOR_MARGIN_MS} ms.\n`;
  return `\n## A ${o.treeMib} MiB process tree, post-copy\n\nMedians. The freeze as the report has it (from CRIU's freeze, as its dump's log says: \`freeze_start\`), and from the dump command's issue; phases as the report has them: checkpoint (from the dump command's issue until its page server listens), transfer (the ~100 KiB of images), restore (the lazy-pages daemon started, the guards told, \`criu restore\`); CRIU restore: CRIU's own restore time from its stats.\n\n`
    + `| page channel | moved | freeze (ms) | freeze − floor (ms) | target | from the command (ms) | that − floor from the command (ms) | checkpoint (ms) | transfer (ms) | restore (ms) | CRIU restore (ms) |\n|---|---|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n${floorText}`;
}

/** The median fill of CRIU alone on `path` (lib/criu-floor.ts's fillMs). */
const fillOf = (floors: FloorRun[], path: 'loopback' | 'link'): number | undefined => medianOf(floors.filter((x) => x.ok && x.path === path).map((x) => x.floor!.fillMs));

/** CRIU's own window for the memory, without migrate, per path: per run and the median. */
function criuAloneText(o: Options, windowFloors: FloorRun[]): string {
  if (!windowFloors.length) return '';
  const runs = (path: 'loopback' | 'link') => windowFloors.filter((x) => x.path === path)
    .map((x) => (x.ok && x.floor!.fillMs !== undefined ? sec(x.floor!.fillMs) : `failed: ${JSON.stringify(x.error ?? x.floor?.fillFailed).slice(0, 120)}`)).join(', ');
  const m = (path: 'loopback' | 'link') => { const v = fillOf(windowFloors, path); return v === undefined ? DASH : `**${sec(v)} s**`; };
  return `**CRIU alone**, in the same run, no migrate (bench/lib/criu-floor.ts): a memload tree of ${o.mib} MiB (idle) on A dumped with \`criu dump --lazy-pages\`, its copy restored with \`criu restore --lazy-pages\` and filled by a lazy-pages daemon pulling from the dump's page server over TLS. `
    + `From the restore's return until every page was in place: ${m('link')} with the daemon and the copy on B, across the lab link, as migrate's direct channel does (runs: ${runs('link')} s), `
    + `and ${m('loopback')} with everything on A, over loopback (runs: ${runs('loopback')} s). The first is the column "CRIU alone across the link" above: CRIU's own window for this memory on this link. `
    + 'The link is a veth pair with an MTU of 1500; over it the daemon pulls at half its loopback pace (`npm run bench:daemon-pull`, bench/results/daemon-pull.md).\n\n';
}

const KIND_TEXT: Record<Kind, string> = {
  cold: 'cold: the dump (its page stream)',
  'postcopy-alone': 'post-copy window, no prefetcher (the default)',
  postcopy: 'post-copy window, prefetcher',
  'postcopy-alone-unforwarded': 'post-copy window, no prefetcher, no forwarder',
  'postcopy-unforwarded': 'post-copy window, prefetcher, no forwarder',
};

/** Where the machine's CPU went, per kind of move, channel and dirty rate (medians of the moves). */
function cpuMarkdown(o: Options, moves: Move[]): string {
  const rows: string[] = [];
  for (const channel of o.channels) {
    for (const dirty of o.dirty) {
      for (const kind of kindsFor(channel)) {
        const ok = moves.filter((x) => x.ok && x.cpu && x.kind === kind && x.channel === channel && x.dirty === dirty);
        if (!ok.length) continue;
        const m = (g: (c: CpuUse) => number) => medianOf(ok.map((x) => g(x.cpu!)));
        const roles = ROLES.map((r: Role) => m((c) => c.seconds[r])?.toFixed(2) ?? DASH);
        const perGib = m((c) => c.seconds.controller / (o.mib / 1024));
        rows.push(`| ${KIND_TEXT[kind]} | ${channel} | ${dirty} | ${ok.length} | ${sec(m((c) => c.wallMs)!)} | ${m((c) => c.busyCpus)!.toFixed(2)} of ${ok[0]!.cpu!.cpus} | ${roles.join(' | ')} | ${perGib?.toFixed(2) ?? DASH} |`);
      }
    }
  }
  return '\n## Where the CPU went\n\nBoth lab hosts are this machine, so every process of a move shows in its /proc (bench/lib/cpu-use.ts, sampled every 100 ms; a process that lived under 100 ms is missed). '
    + 'Post-copy: over the window (from the step \'postcopy\' until the pulling\'s progress is done); cold: over the dump (from the move\'s start until the memory\'s progress is done). '
    + 'CPUs busy: the machine\'s average over that stretch, from /proc/stat (idle and iowait count as idle). Then CPU seconds per role (medians): the controller (this process, without the sampler\'s own reads), CRIU (dump, page server, lazy-pages daemon, restore), sshd (both hosts), node (migrate\'s prefetcher or page forwarder on the hosts), the workload, Docker\'s daemons (dockerd, containerd, shims, runc), and the rest (kernel threads: softirqs of the link, page reclaim).\n\n'
    + `| what | channel | dirty MiB/s | moves | stretch (s) | CPUs busy | ${ROLES.join(' (s) | ')} (s) | controller s per GiB |\n|${'---|'.repeat(7 + ROLES.length)}\n${rows.join('\n')}\n`;
}

function markdown(command: string, facts: HostFacts, o: Options, cells: Cell[], moves: Move[], trees: TreeMove[], floors: FloorRun[], windowFloors: FloorRun[]): string {
  const f = (x: number | undefined) => (x === undefined ? DASH : sec(x));
  const alone = fillOf(windowFloors, 'link');
  const verdict = (p: boolean | undefined) => (p === undefined ? DASH : p ? 'pass' : 'FAIL');
  const rows = cells.map((c) => `| ${c.channel} | ${c.dirty} | ${f(c.coldMs)} | ${f(c.windowMs)} | ${c.ratio?.toFixed(2) ?? DASH} | ${verdict(c.pass)} | ${f(c.aloneMs)} | ${c.aloneRatio?.toFixed(2) ?? DASH} | ${verdict(c.passAlone)} | ${f(c.unforwardedMs)} / ${f(c.aloneUnforwardedMs)} | ${f(alone)} | ${alone && c.windowMs ? (c.windowMs / alone).toFixed(2) : DASH} |`);
  const inPlaceRows = cells.map((c) => `| ${c.channel} | ${c.dirty} | ${f(c.coldInPlaceMs)} | ${f(c.postcopyInPlaceMs)} | ${c.inPlaceRatio?.toFixed(2) ?? DASH} |`);
  const ahead = (x: Move) => { const s = x.prefetch?.stats; return s ? `${s.pages_ready} / ${s.pages_waited} / ${s.pages_forwarded}` : DASH; };
  const each = moves.map((x) => `| ${x.kind} | ${x.channel} | ${x.dirty} | ${x.run} | ${x.ok ? 'ok' : `failed: ${JSON.stringify(x.error).slice(0, 160)}`} | ${f(x.freezeMs)} | ${f(x.checkpointMs)} | ${f(x.streamMs)} | ${x.pages ?? DASH} | ${x.onDemand ?? DASH} / ${x.background ?? DASH} | ${ahead(x)} | ${x.loadavg} |`);
  return `# The post-copy window against cold's page stream (\`npm run bench:window\`)\n\n${factsMarkdown(command, facts)}\n`
    + `A memload container with ${o.mib} MiB resident, moved A → B. Cold's stream: CRIU's memwrite time (every page into the page server on B). `
    + `Window: post-copy's \`postcopy_ms\`, from the restore until every page is on B, with the prefetcher on B (\`--prefetch auto\`) and without it (\`--prefetch off\`, the default since 2026-12-02: CRIU's lazy-pages daemon pulls by itself, one request in flight). `
    + 'Direct, the daemon (or the prefetcher) pulls through the page forwarder on A (`--page-forwarder auto`, the default since 2026-12-03: A\'s page server on its loopback, the forwarder writing to the link); '
    + 'the column "without the forwarder" moves with `--page-forwarder off` (A\'s page server on the link itself), with / without the prefetcher. '
    + `Medians of ${o.runs} run(s). Target: window ≤ ${TARGET_RATIO} × stream.\n\n`
    + `| page channel | dirty MiB/s | cold stream (s) | post-copy window (s) | window / stream | target | without the prefetcher (s) | that / stream | target | without the forwarder: with / without the prefetcher (s) | CRIU alone across the link (s) | window / CRIU alone |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n\n`
    + criuAloneText(o, windowFloors)
    + 'The window also places every page into the restored process\'s memory (the daemon\'s UFFDIO_COPY), which cold does after its stream, inside its restore. '
    + 'Like for like, from the freeze\'s start until all the memory is in place on B: cold\'s freeze against post-copy\'s freeze + window (medians).\n\n'
    + `| page channel | dirty MiB/s | cold: freeze (s) | post-copy: freeze + window (s) | post-copy / cold |\n|---|---|---|---|---|\n${inPlaceRows.join('\n')}\n\n`
    + cpuMarkdown(o, moves)
    + `${treeMarkdown(o, trees, floors)}\n## Every move\n\n| strategy | channel | dirty MiB/s | run | result | freeze (s) | checkpoint (s) | stream or window (s) | pages | on demand / background | prefetched: there / waited for / asked for the daemon | load |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n${each.join('\n')}\n`;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const { lab, a, b } = labHosts();
  try {
    const facts = await hostFacts(a, b);
    const moves: Move[] = [];
    for (let run = 1; run <= (o.mib > 0 ? o.runs : 0); run++) {
      for (const dirty of o.dirty) {
        for (const channel of o.channels) {
          for (const kind of kindsFor(channel)) {
            const m = await moveOnce(a, b, lab.image, o, kind, channel, dirty, run);
            const cpu = m.cpu ? `; CPUs busy ${m.cpu.busyCpus.toFixed(2)} of ${m.cpu.cpus}, CPU s ${ROLES.map((r) => `${r} ${m.cpu!.seconds[r].toFixed(2)}`).join(', ')}` : '';
            console.log(`${kind} ${channel} dirty ${dirty} run ${run}: ${m.ok ? `stream/window ${m.streamMs} ms, freeze ${m.freezeMs} ms${cpu}` : JSON.stringify(m.error)}`);
            moves.push(m);
          }
        }
      }
    }
    const windowFloors: FloorRun[] = [];
    const link: FloorPlace = { on: b, address: (await routeTo(a, targetAddress(lab))).src };
    for (let run = 1; run <= (o.mib > 0 ? o.runs : 0); run++) {
      for (const place of [undefined, link]) {
        const fl = await floorOnce(a, o.mib, run, place);
        console.log(`${o.mib} MiB CRIU alone (${fl.path}) run ${run}: ${fl.ok ? JSON.stringify(fl.floor) : JSON.stringify(fl.error)}`);
        windowFloors.push(fl);
      }
    }
    const trees: TreeMove[] = [];
    const floors: FloorRun[] = [];
    if (o.treeMib > 0) {
      for (let run = 1; run <= o.runs * 2; run++) {
        const fl = await floorOnce(a, o.treeMib, run);
        console.log(`tree ${o.treeMib} MiB CRIU floor run ${run}: ${fl.ok ? JSON.stringify(fl.floor) : JSON.stringify(fl.error)}`);
        floors.push(fl);
        for (const channel of o.channels) {
          const m = await treeOnce(a, b, o.treeMib, channel, run);
          console.log(`tree ${o.treeMib} MiB postcopy ${channel} run ${run}: ${m.ok ? `freeze ${m.freezeMs} ms ${JSON.stringify(m.phases)}, CRIU restore ${m.criuRestoreMs} ms` : JSON.stringify(m.error)}`);
          trees.push(m);
        }
      }
    }
    const cells = cellsOf(o, moves);
    const criuFillMs = { loopback: fillOf(windowFloors, 'loopback'), link: fillOf(windowFloors, 'link') };
    mkdirSync(o.outDir, { recursive: true });
    const command = commandLine('bench:window', 'dist/bench/postcopy-window.js', o.argv);
    writeFileSync(join(o.outDir, 'postcopy-window.json'), JSON.stringify({ meta: { command, ...facts, mib: o.mib, treeMib: o.treeMib, runs: o.runs, targetRatio: TARGET_RATIO }, cells, criuFillMs, moves, windowFloors, trees, floors }, null, 1) + '\n');
    writeFileSync(join(o.outDir, 'postcopy-window.md'), markdown(command, facts, o, cells, moves, trees, floors, windowFloors));
    for (const c of cells) console.log(`${c.channel} dirty ${c.dirty}: window ${c.windowMs} ms / stream ${c.coldMs} ms = ${c.ratio?.toFixed(2)} ${c.pass ? 'PASS' : 'FAIL'} (without the prefetcher ${c.aloneMs} ms = ${c.aloneRatio?.toFixed(2)} ${c.passAlone ? 'PASS' : 'FAIL'}; without the forwarder ${c.unforwardedMs ?? '-'} / ${c.aloneUnforwardedMs ?? '-'} ms)`);
    for (const c of cells) console.log(`${c.channel} dirty ${c.dirty}: memory in place, post-copy ${c.postcopyInPlaceMs} ms / cold ${c.coldInPlaceMs} ms = ${c.inPlaceRatio?.toFixed(2)}`);
    console.log(`CRIU alone fills ${o.mib} MiB in ${criuFillMs.loopback} ms over loopback, ${criuFillMs.link} ms across the link (medians)`);
    if ([...moves, ...trees, ...floors, ...windowFloors].some((m) => !m.ok)) process.exitCode = 1;
  } finally {
    await b.close();
  }
}

await main();
