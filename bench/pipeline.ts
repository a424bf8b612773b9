/**
 * Pipeline micro-benchmark: bytes per second of each stage of migrate's image path on this lab
 * — CRIU dump to tmpfs, tar, zstd -1, the ssh2 channel, OpenSSH for comparison, zstd -d and
 * tar -x on B — and of the whole stream (sendDirectory), with the stage that bounds a migration
 * and PASS/FAIL for "the whole stream reaches ≥ 80 % of its slowest stage" (lib/pipeline-bench.ts).
 *
 * Run: npm run bench:pipeline [-- --mib 256 --runs 3 | --quick]   (also part of `npm run bench`)
 * Needs the lab (bash lab/lab.sh up). Writes bench/results/pipeline.{json,md}.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fail } from './lib/fail.js';
import { commandLine } from './lib/host-facts.js';
import { labHosts, ROOT } from './lib/lab.js';
import { pipelineBench, verdict } from './lib/pipeline-bench.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({ args: argv, options: { mib: { type: 'string' }, runs: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' } } });
  const quick = values.quick ?? false;
  const mib = Number(values.mib ?? 256);
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  if (!Number.isInteger(mib) || mib < 1) fail(`--mib wants a positive integer, got ${values.mib}`);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs wants a positive integer, got ${values.runs}`);
  const h = labHosts();
  try {
    const r = await pipelineBench(h, {
      mib, runs, quick, command: commandLine('bench:pipeline', 'dist/bench/pipeline.js', argv), outDir: values.out ?? join(ROOT, 'bench/results'),
    }, (line) => console.error(line));
    // A FAIL is a finding about the code, not a failed benchmark: the exit code stays 0.
    console.log(verdict(r));
  } finally {
    await h.b.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
