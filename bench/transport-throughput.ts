/**
 * Transport throughput: how fast can 256 MiB of a real workload's memory go from host A to
 * host B over the ssh2 transport, the OpenSSH binary, and with zstd? And how long does one short
 * command take over the transport, with TCP_NODELAY (the default) and without (Nagle's algorithm
 * meeting delayed ACKs)? Run: npm run bench:transport (needs the lab: bash lab/lab.sh up).
 * Writes bench/results/transport-throughput.{json,md}.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { CompressStream } from 'zstd-napi';
import { SshTransport } from '../src/index.js';
import { median, spreadOf, type Spread } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)); // dist/bench/ -> repo root
const MIB = 1024 * 1024;
const INPUT_MIB = 256;
const RUNS = 3;
/** Short commands timed per transport, after one untimed. */
const COMMANDS = 40;
const COMMAND = 'npm run bench:transport';

interface Lab { url: string; hostSpec: string; key: string; knownHosts: string }
interface Row { name: string; kind: 'network' | 'cpu'; run: () => Promise<number | void> }
interface RowResult { name: string; kind: string; warmupSeconds: number; seconds: number[]; mbps: number[]; median: number; min: number; max: number; ratio?: number }

function labEnv(): Lab {
  const out = execFileSync('bash', [join(ROOT, 'lab/lab.sh'), 'env'], { encoding: 'utf8' });
  const env = new Map([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const get = (k: string): string => env.get(k) ?? process.env[k] ?? fail(`lab.sh env gave no ${k}`);
  const url = get('MIGRATE_LAB_TARGET');
  return { url, hostSpec: url.replace(/^ssh:\/\//, ''), key: get('MIGRATE_LAB_SSH_KEY'), knownHosts: get('MIGRATE_LAB_KNOWN_HOSTS') };
}

const fail = (message: string): never => { throw new Error(message); };
const loadavg = async (): Promise<string> => (await readFile('/proc/loadavg', 'utf8')).trim();
const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

/** The biggest private read-write anonymous mapping in /proc/PID/maps: [start, end). */
async function biggestAnonMapping(pid: number): Promise<[number, number]> {
  let best: [number, number] = [0, 0];
  for (const line of (await readFile(`/proc/${pid}/maps`, 'utf8')).split('\n')) {
    const [range, perms, , , inode, path] = line.trim().split(/\s+/);
    if (!range || perms !== 'rw-p' || inode !== '0' || path !== undefined) continue;
    const [start, end] = range.split('-').map((h) => parseInt(h, 16)) as [number, number];
    if (end - start > best[1] - best[0]) best = [start, end];
  }
  return best[1] > best[0] ? best : fail(`no anonymous rw-p mapping in /proc/${pid}/maps`);
}

async function readProcessMemory(pid: number, [start, end]: [number, number]): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(end - start);
  const fh = await open(`/proc/${pid}/mem`, 'r');
  try {
    for (let off = 0; off < buf.length; ) {
      const { bytesRead } = await fh.read(buf, off, Math.min(16 * MIB, buf.length - off), start + off);
      if (bytesRead === 0) fail(`short read of /proc/${pid}/mem at ${off}`);
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return buf;
}

/** Starts memload, waits for its `start` line, copies its memory, and stops it. */
async function captureWorkloadMemory(mib: number): Promise<Buffer> {
  const child = spawn(join(ROOT, 'build/memload'), ['--mib', String(mib), '--tick-ms', '100'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  try {
    let pid: number | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      pid = Number(/^start pid=(\d+)/.exec(line)?.[1] ?? NaN);
      if (pid > 0) break;
    }
    child.stdout.resume(); // keep draining tick lines
    if (!pid) return fail('memload exited before its start line');
    const buf = await readProcessMemory(pid, await biggestAnonMapping(pid));
    if (buf.length !== mib * MIB) fail(`mapping is ${buf.length} bytes, expected ${mib} MiB`);
    // Pages are self-describing: the first u64 of page i is i.
    if (buf.readBigUInt64LE(0) !== 0n || buf.readBigUInt64LE(buf.length - 4096) !== BigInt(buf.length / 4096 - 1)) fail('mapping is not memload\'s pages');
    return buf;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

function chunks(buf: Buffer): Readable {
  return Readable.from((function* () {
    for (let off = 0; off < buf.length; off += MIB) yield buf.subarray(off, off + MIB);
  })());
}

async function viaTransport(t: SshTransport, buf: Buffer, argv: string[], level?: number): Promise<void> {
  const cmd = t.spawn(argv);
  cmd.stdout.resume();
  const sent = level === undefined
    ? pipeline(chunks(buf), cmd.stdin)
    : pipeline(chunks(buf), new CompressStream({ compressionLevel: level }), cmd.stdin);
  await Promise.all([sent, cmd.done]);
}

/** Runs `ssh [extra] host remote` with buf (or nothing) on its stdin. */
async function viaOpenSsh(lab: Lab, extra: string[], remote: string, buf?: Buffer): Promise<void> {
  const args = ['-i', lab.key, '-o', `UserKnownHostsFile=${lab.knownHosts}`, '-o', 'BatchMode=yes', ...extra, lab.hostSpec, remote];
  const child = spawn('ssh', args, { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  await (buf ? pipeline(chunks(buf), child.stdin) : new Promise<void>((resolve) => child.stdin.end(resolve)));
  const [code, signal] = await exited;
  if (code !== 0) fail(`ssh ${args.join(' ')} exited with ${code ?? signal}`);
}

/** Compresses in 1 MiB chunks like the transport row does; returns input/output ratio. */
async function compressOnly(buf: Buffer, level: number): Promise<number> {
  let out = 0;
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { out += chunk.length; cb(); } });
  await pipeline(chunks(buf), new CompressStream({ compressionLevel: level }), sink);
  return buf.length / out;
}

async function timed(fn: () => Promise<number | void>): Promise<{ seconds: number; value: number | void }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1e3, value };
}

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;

interface LatencyResult extends Spread { name: string; ms: number[]; p90: number }

/** `true` over each transport, alternating between them so drift spreads over both. */
async function commandLatency(transports: Array<{ name: string; t: SshTransport }>): Promise<LatencyResult[]> {
  const ms = transports.map((): number[] => []);
  for (const { t } of transports) await t.exec(['true']);
  for (let i = 0; i < COMMANDS; i++) {
    for (const [j, { t }] of transports.entries()) ms[j]!.push((await timed(() => t.exec(['true']).then(() => {}))).seconds * 1e3);
  }
  return transports.map(({ name }, j) => ({ name, ms: ms[j]!, ...spreadOf(ms[j]!)!, p90: quantile(ms[j]!, 0.9) }));
}

function summarize(row: Row, [warmupSeconds, ...seconds]: number[], bytes: number, ratio?: number): RowResult {
  const mbps = seconds.map((s) => bytes / 1e6 / s);
  return { name: row.name, kind: row.kind, warmupSeconds: warmupSeconds!, seconds, mbps, median: median(mbps), min: Math.min(...mbps), max: Math.max(...mbps), ...(ratio === undefined ? {} : { ratio }) };
}

/**
 * Runs the rows round-robin so drift on the host spreads over all of them. Round 0 is a discarded
 * warm-up: a fresh process's first ssh2 transfer runs at about half speed (JIT, heap growth).
 */
async function measure(rows: Row[], bytes: number): Promise<RowResult[]> {
  const seconds = rows.map((): number[] => []);
  const ratios = rows.map((): number | undefined => undefined);
  for (let round = 0; round <= RUNS; round++) {
    for (const [i, row] of rows.entries()) {
      const { seconds: s, value } = await timed(row.run);
      seconds[i]!.push(s);
      if (typeof value === 'number') ratios[i] = value;
      console.error(`${round === 0 ? 'warm-up' : `round ${round}/${RUNS}`}  ${row.name}: ${(bytes / 1e6 / s).toFixed(1)} MB/s`);
    }
  }
  return rows.map((row, i) => summarize(row, seconds[i]!, bytes, ratios[i]));
}

function table(results: RowResult[]): string {
  const f = (n: number) => n.toFixed(1);
  const lines = ['| # | Path | Kind | Median MB/s | Min MB/s | Max MB/s | zstd ratio |', '|---|---|---|---:|---:|---:|---:|'];
  results.forEach((r, i) => lines.push(`| ${i + 1} | ${r.name} | ${r.kind} | ${f(r.median)} | ${f(r.min)} | ${f(r.max)} | ${r.ratio === undefined ? '' : r.ratio.toFixed(5)} |`));
  return lines.join('\n');
}

async function main(): Promise<void> {
  const lab = labEnv();
  const buf = await captureWorkloadMemory(INPUT_MIB);
  const t = new SshTransport(lab.url, { identityFiles: [lab.key], knownHostsFiles: [lab.knownHosts] });
  const nagle = new SshTransport(lab.url, { identityFiles: [lab.key], knownHostsFiles: [lab.knownHosts], noDelay: false });
  try {
    await Promise.all([t.connect(), nagle.connect()]); // connection setup is not part of the ssh2 rows
    const rows: Row[] = [
      { name: 'ssh2 transport, `cat > /dev/null`', kind: 'network', run: () => viaTransport(t, buf, ['sh', '-c', 'cat > /dev/null']) },
      { name: 'ssh2 transport without TCP_NODELAY, `cat > /dev/null`', kind: 'network', run: () => viaTransport(nagle, buf, ['sh', '-c', 'cat > /dev/null']) },
      { name: 'OpenSSH `ssh` (default cipher), `cat > /dev/null`', kind: 'network', run: () => viaOpenSsh(lab, [], 'cat > /dev/null', buf) },
      { name: 'OpenSSH `ssh -c aes128-gcm@openssh.com`', kind: 'network', run: () => viaOpenSsh(lab, ['-c', 'aes128-gcm@openssh.com'], 'cat > /dev/null', buf) },
      { name: 'zstd -1 in-process (CPU only)', kind: 'cpu', run: () => compressOnly(buf, 1) },
      { name: 'zstd -3 in-process (CPU only)', kind: 'cpu', run: () => compressOnly(buf, 3) },
      { name: 'zstd -1 stream → ssh2 transport → `zstd -d`', kind: 'network', run: () => viaTransport(t, buf, ['sh', '-c', 'zstd -d -c > /dev/null'], 1) },
    ];
    const loadavgBefore = await loadavg();
    const setup: number[] = [];
    for (let i = 0; i < RUNS; i++) setup.push((await timed(() => viaOpenSsh(lab, [], 'true'))).seconds);
    const results = await measure(rows, buf.length);
    const latency = await commandLatency([{ name: 'ssh2 transport (TCP_NODELAY, the default)', t }, { name: 'ssh2 transport without TCP_NODELAY', t: nagle }]);
    report(results, latency, { inputBytes: buf.length, openSshSetupSeconds: setup, loadavgBefore, loadavgAfter: await loadavg() });
  } finally {
    await Promise.all([t.close(), nagle.close()]);
  }
}

interface RunInfo { inputBytes: number; openSshSetupSeconds: number[]; loadavgBefore: string; loadavgAfter: string }

function report(results: RowResult[], latency: LatencyResult[], info: RunInfo): void {
  const meta = {
    command: COMMAND,
    date: new Date().toISOString(),
    node: process.version,
    kernel: sh('uname', '-r'),
    commit: sh('git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'),
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    chunkBytes: MIB,
    runs: RUNS,
    ...info,
  };
  const md = table(results);
  console.log(md);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'transport-throughput.json'), JSON.stringify({ ...meta, input: `memload --mib ${INPUT_MIB} anonymous memory via /proc/PID/mem`, rows: results, commandLatency: latency }, null, 2) + '\n');
  const header = `# Transport throughput\n\nCommand: \`${COMMAND}\`  \nDate: ${meta.date}  \nCommit: ${meta.commit}  \nKernel: ${meta.kernel}  \nNode: ${meta.node}  \nCPU: ${meta.cpu}\n\n`;
  const input = `Input: ${INPUT_MIB} MiB of \`memload --mib ${INPUT_MIB}\` anonymous memory, sent in 1 MiB chunks host A → B; one discarded warm-up round, then ${RUNS} runs per row, round-robin; MB = 1e6 bytes of input.\n\n`;
  const notes = `\n\nOpenSSH rows open a new connection per run (included; \`ssh … true\` takes ${(median(info.openSshSetupSeconds) * 1000).toFixed(0)} ms median). `
    + 'ssh2 rows reuse one connection and include only the channel open. zstd ratio = input bytes / compressed bytes. '
    + `Load average before/after: ${info.loadavgBefore} / ${info.loadavgAfter}.\n`;
  const f = (n: number) => n.toFixed(1);
  const lat = `\n## One short command\n\n\`true\` on B, ${COMMANDS} times per transport (one connection each, alternating), after one untimed. Migrate runs several such commands inside every freeze.\n\n`
    + '| Transport | Median ms | p90 ms | Min ms | Max ms |\n|---|---:|---:|---:|---:|\n'
    + latency.map((l) => `| ${l.name} | ${f(l.median)} | ${f(l.p90)} | ${f(l.min)} | ${f(l.max)} |`).join('\n') + '\n';
  console.log(lat);
  writeFileSync(join(dir, 'transport-throughput.md'), header + input + md + notes + lat);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
