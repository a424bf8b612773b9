/**
 * The pipeline micro-benchmark: bytes per second of each stage of the image path on this lab,
 * and of the whole stream, on a real CRIU dump of a memload tree. Every rate is in bytes of the
 * dump's image files per second (MB = 1e6 bytes), whatever the stage handles (tar adds headers,
 * zstd barely shrinks memload's incompressible pages), so the stages compare directly.
 *
 * Which stage bounds a migration: the slowest. Is the stream built well: the whole stream
 * (sendDirectory, src/transfer/send-dir.ts) should reach ≥ 80 % of its slowest stage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { dump } from '../../src/criu/run.js';
import { sendDirectory } from '../../src/transfer/send-dir.js';
import { out } from './commands.js';
import { cell } from './format.js';
import { factsMarkdown, hostFacts, loadavg, type HostFacts } from './host-facts.js';
import type { LabHosts } from './lab.js';
import { removeTree, startTree } from './memload-tree.js';
import { compress, digestThere, imageFiles, intoCommand, intoOpenSsh, packDirectory, untarThere, zstdDecompressThere } from './pipeline-stages.js';
import { spreadOf, timed, type Spread } from './stats.js';

/** The whole stream must reach this share of its slowest stage. */
export const STREAM_TARGET = 0.8;

export interface PipelineOptions { mib: number; runs: number; quick: boolean; command: string; outDir: string }

type StageId = 'dump' | 'tar' | 'zstd' | 'ssh2' | 'openssh' | 'unzstd' | 'untar' | 'verify' | 'whole';

interface StageDef {
  id: StageId;
  name: string;
  where: string;
  /** A stage of sendDirectory's stream (they run at once, piped); the slowest bounds the stream. */
  inStream: boolean;
}

const STAGES: StageDef[] = [
  { id: 'dump', name: 'CRIU dump of the tree to tmpfs (`criu dump --leave-running`)', where: 'A', inStream: false },
  { id: 'tar', name: 'read + tar (tar-stream) + SHA-256 of the stream, as sendDirectory packs', where: 'A', inStream: true },
  { id: 'zstd', name: 'zstd -1 (zstd-napi CompressStream, 1 worker thread)', where: 'A', inStream: true },
  { id: 'ssh2', name: 'ssh2 channel (SshTransport) → `cat > /dev/null`', where: 'A → B', inStream: true },
  { id: 'openssh', name: 'OpenSSH `ssh B \'cat > /dev/null\'` (new connection, default cipher)', where: 'A → B', inStream: false },
  { id: 'unzstd', name: '`zstd -d` on B', where: 'B', inStream: true },
  { id: 'untar', name: '`tar -x` on B into tmpfs', where: 'B', inStream: true },
  { id: 'verify', name: '`sha256sum` of the tar stream on B (beside `tar -x`)', where: 'B', inStream: true },
  { id: 'whole', name: 'whole stream: sendDirectory A → B, digests compared', where: 'A → B', inStream: false },
];

export interface StageResult extends StageDef {
  /** Per measured round (the warm-up round is not here). */
  ms: number[];
  /** MB/s of image bytes. */
  mbps: Spread;
}

export interface PipelineResult {
  imageBytes: number[];
  tarBytes: number[];
  wireBytes: number[];
  stages: StageResult[];
  /** The slowest stage of all, and of the stream's stages. */
  slowest: StageId;
  slowestInStream: StageId;
  /** The whole stream / its slowest stage (medians). */
  streamShare: number;
  pass: boolean;
  /**
   * MB/s if the stream's stages shared this machine's CPUs perfectly: CPUs / Σ 1/rate over the
   * stages of the stream, each rate measured alone (one CPU each). Both lab hosts run on the same
   * CPUs, so this is a ceiling for the whole stream here, from the medians.
   */
  sharedCpuModelMbps: number;
  cpus: number;
}

export interface PipelineMeta extends HostFacts { command: string; quick: boolean; inputMib: number; runs: number; loadavgBefore: string; loadavgAfter: string }

const mbps = (bytes: number, ms: number): number => bytes / 1e3 / ms;

/** Scratch directories in tmpfs. B's mount namespace is a slave of A's, so in this lab its /dev/shm is the same tmpfs. */
const scratch = (t: Transport, what: string): Promise<string> => out(t, ['mktemp', '-d', `/dev/shm/migrate-bench-${what}.XXXXXX`]);

async function oneRound(h: LabHosts, pid: number, dirA: string, dirB: string, round: number): Promise<{ ms: Record<StageId, number>; imageBytes: number; tarBytes: number; wireBytes: number }> {
  const images = join(dirA, `dump-${round}`);
  const onB = (name: string) => `${dirB}/${name}-${round}`;
  try {
    const dumped = await timed(() => dump(h.a, { pid, imagesDir: images, leaveRunning: true }));
    const imageBytes = (await imageFiles(images)).reduce((s, f) => s + f.size, 0);
    // The in-memory archive and its compressed form are dropped before the whole stream runs, as
    // a migration holds neither (512 MiB of buffers for 256 MiB of images).
    const stages = await (async () => {
      const tarMs = (await timed(() => packDirectory(images, false))).ms;
      const packed = await packDirectory(images, true); // the archive for the next stages, untimed
      const zstdMs = (await timed(() => compress(packed.chunks, false))).ms;
      const zipped = await compress(packed.chunks, true);
      const ssh2 = await timed(() => intoCommand(h.b, zipped.chunks, ['sh', '-c', 'cat > /dev/null']));
      const openssh = await timed(() => intoOpenSsh(h.lab, zipped.chunks));
      // The files B's stages read, put there untimed.
      await intoCommand(h.b, zipped.chunks, ['sh', '-c', 'cat > "$1"', 'put', onB('stream.tar.zst')]);
      await intoCommand(h.b, packed.chunks, ['sh', '-c', 'cat > "$1"', 'put', onB('stream.tar')]);
      const unzstd = await zstdDecompressThere(h.b, onB('stream.tar.zst'));
      const untar = await untarThere(h.b, onB('stream.tar'), onB('untar'));
      const verify = await digestThere(h.b, onB('stream.tar'));
      await h.b.exec(['rm', '-rf', onB('stream.tar.zst'), onB('stream.tar'), onB('untar')]);
      return { ms: { tar: tarMs, zstd: zstdMs, ssh2: ssh2.ms, openssh: openssh.ms, unzstd, untar, verify }, tarBytes: packed.bytes };
    })();
    const whole = await timed(() => sendDirectory(images, h.b, onB('whole'), { level: 1 }));
    return {
      ms: { dump: dumped.ms, ...stages.ms, whole: whole.ms },
      imageBytes, tarBytes: stages.tarBytes, wireBytes: whole.value.wireBytes,
    };
  } finally {
    await h.a.exec(['rm', '-rf', images]);
    await h.b.exec(['sh', '-c', 'rm -rf "$1"/*', 'clean', dirB]);
  }
}

/** Round 0 is a discarded warm-up: a fresh process's first ssh2 transfer runs at about half speed (JIT, heap growth). */
export async function measurePipeline(h: LabHosts, o: Pick<PipelineOptions, 'mib' | 'runs'>, progress: (line: string) => void): Promise<PipelineResult> {
  const tree = await startTree(h.a, { mib: o.mib, tickMs: 100, seed: process.pid }, 120_000);
  const dirA = await scratch(h.a, 'pipeline-a');
  const dirB = await scratch(h.b, 'pipeline-b');
  const ms = new Map<StageId, number[]>(STAGES.map((s) => [s.id, []]));
  const imageBytes: number[] = [];
  const tarBytes: number[] = [];
  const wireBytes: number[] = [];
  try {
    for (let round = 0; round <= o.runs; round++) {
      const r = await oneRound(h, tree.pid, dirA, dirB, round);
      progress(`pipeline ${round === 0 ? 'warm-up' : `round ${round}/${o.runs}`}: ${STAGES.map((s) => `${s.id} ${mbps(r.imageBytes, r.ms[s.id]).toFixed(0)}`).join(', ')} MB/s`);
      if (round === 0) continue;
      for (const s of STAGES) ms.get(s.id)!.push(r.ms[s.id]);
      imageBytes.push(r.imageBytes);
      tarBytes.push(r.tarBytes);
      wireBytes.push(r.wireBytes);
    }
  } finally {
    await removeTree(tree, h.a);
    await h.a.exec(['rm', '-rf', dirA]);
    await h.b.exec(['rm', '-rf', dirB]);
  }
  const stages = STAGES.map((s): StageResult => {
    const times = ms.get(s.id)!;
    return { ...s, ms: times.map((x) => Math.round(x * 10) / 10), mbps: spreadOf(times.map((t, i) => mbps(imageBytes[i]!, t)))! };
  });
  const byRate = (xs: StageResult[]) => [...xs].sort((a, b) => a.mbps.median - b.mbps.median)[0]!;
  const bounding = stages.filter((s) => s.id !== 'whole' && s.id !== 'openssh');
  const slowestInStream = byRate(stages.filter((s) => s.inStream));
  const streamShare = stages.find((s) => s.id === 'whole')!.mbps.median / slowestInStream.mbps.median;
  const rate = (id: StageId) => stages.find((s) => s.id === id)!.mbps.median;
  const cpus = availableParallelism();
  const sharedCpuModelMbps = cpus / stages.filter((s) => s.inStream).reduce((sum, s) => sum + 1 / rate(s.id), 0);
  return { imageBytes, tarBytes, wireBytes, stages, slowest: byRate(bounding).id, slowestInStream: slowestInStream.id, streamShare, pass: streamShare >= STREAM_TARGET, sharedCpuModelMbps, cpus };
}

export function verdict(r: PipelineResult): string {
  const slowest = r.stages.find((s) => s.id === r.slowestInStream)!;
  const whole = r.stages.find((s) => s.id === 'whole')!;
  return `Target: the whole stream reaches ≥ ${STREAM_TARGET * 100} % of its slowest stage: ${r.pass ? 'PASS' : 'FAIL'} — `
    + `sendDirectory ${whole.mbps.median.toFixed(0)} MB/s vs ${slowest.name} ${slowest.mbps.median.toFixed(0)} MB/s (${(r.streamShare * 100).toFixed(0)} %)`;
}

function table(r: PipelineResult): string {
  const f = (x: number) => x.toFixed(0);
  const lines = ['| Stage | Where | In the stream | Median MB/s | Min MB/s | Max MB/s | Median s |', '|---|---|---|---:|---:|---:|---:|'];
  for (const s of r.stages) {
    const sorted = [...s.ms].sort((a, b) => a - b);
    lines.push(`| ${cell(s.name)} | ${s.where} | ${s.inStream ? 'yes' : 'no'} | ${f(s.mbps.median)} | ${f(s.mbps.min)} | ${f(s.mbps.max)} | ${(sorted[sorted.length >> 1]! / 1e3).toFixed(2)} |`);
  }
  return lines.join('\n');
}

export function pipelineMarkdown(m: PipelineMeta, r: PipelineResult): string {
  const slowest = r.stages.find((s) => s.id === r.slowest)!;
  const inStream = r.stages.find((s) => s.id === r.slowestInStream)!;
  const verify = r.stages.find((s) => s.id === 'verify')!;
  const whole = r.stages.find((s) => s.id === 'whole')!;
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  return [
    `# Image pipeline: throughput of each stage${m.quick ? ' — QUICK SMOKE RUN (not the full benchmark)' : ''}`,
    '',
    factsMarkdown(m.command, m),
    `Input: a CRIU dump of \`memload --mib ${m.inputMib}\` (a process tree in its own PID namespace, incompressible pages) on host A: ${mib(r.imageBytes[0] ?? 0)} MiB of image files, `
      + `${mib(r.tarBytes[0] ?? 0)} MiB as tar, ${mib(r.wireBytes[0] ?? 0)} MiB after zstd -1. One discarded warm-up round, then ${m.runs} round(s), every stage once per round. `
      + 'Rates are MB (1e6 bytes) of image files per second, whatever the stage handles, so stages compare directly. '
      + 'Stages on A are timed by the controller on in-memory data (the tar archive, its compressed form); stages on B by B\'s clock on files in tmpfs (what the stream would pipe into them). '
      + 'In this lab both hosts share the same 2 vCPUs, so stages running together (the whole stream) compete for them.',
    '',
    table(r),
    '',
    `Slowest stage: **${slowest.name}** (${slowest.mbps.median.toFixed(0)} MB/s) — it bounds a migration's memory path (OpenSSH is the baseline's transport, not migrate's, and is left out). `
      + `Slowest stage of the stream: **${inStream.name}** (${inStream.mbps.median.toFixed(0)} MB/s).`,
    '',
    verdict(r),
    '',
    `The stream is verified while it flows: A hashes the tar stream it compresses, B's \`sha256sum\` (${verify.mbps.median.toFixed(0)} MB/s alone) reads it through \`tee\` beside \`tar -x\`, and sendDirectory compares the digests. `
      + `Both hosts run on the same ${r.cpus} CPUs: were the stream's stages to share them perfectly, the whole would run at ${r.cpus} / Σ 1/rate = ${r.sharedCpuModelMbps.toFixed(0)} MB/s; `
      + `measured: ${whole.mbps.median.toFixed(0)} MB/s. Load average before/after: ${m.loadavgBefore} / ${m.loadavgAfter}.`,
    '',
  ].join('\n');
}

/** Measures, writes pipeline.{json,md} into outDir, returns the result. */
export async function pipelineBench(h: LabHosts, o: PipelineOptions, progress: (line: string) => void): Promise<PipelineResult> {
  const facts = await hostFacts(h.a, h.b);
  const loadavgBefore = loadavg();
  const r = await measurePipeline(h, o, progress);
  const meta: PipelineMeta = { command: o.command, ...facts, quick: o.quick, inputMib: o.mib, runs: o.runs, loadavgBefore, loadavgAfter: loadavg() };
  mkdirSync(o.outDir, { recursive: true });
  writeFileSync(join(o.outDir, 'pipeline.json'), JSON.stringify({ ...meta, ...r }, null, 2) + '\n');
  writeFileSync(join(o.outDir, 'pipeline.md'), pipelineMarkdown(meta, r));
  return r;
}
