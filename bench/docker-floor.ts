/**
 * Docker's fixed costs on the lab's hosts, none of them migrate's: how long a plain `docker
 * start` of a created, never-run container takes (no checkpoint, no CRIU), and a `docker
 * version` round trip. They bound from below what any migration that keeps dockerd in charge
 * can freeze a container for: the restore is a `docker start --checkpoint`, which does all that
 * a `docker start` does and restores on top.
 *
 * Run: npm run bench:docker-floor [-- --runs 10]
 * Needs the lab (bash lab/lab.sh up). Writes bench/results/docker-floor.{json,md}.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { plainDockerStart, type DockerStartSample } from './lib/docker-start.js';
import { fail } from './lib/fail.js';
import { sec, spreadCells } from './lib/format.js';
import { commandLine, factsMarkdown, hostFacts } from './lib/host-facts.js';
import { labHosts, ROOT } from './lib/lab.js';
import { spreadOf } from './lib/stats.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string' } } });
  const runs = Number(values.runs ?? 10);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs wants a positive integer, got ${values.runs}`);
  const h = labHosts();
  try {
    const facts = await hostFacts(h.a, h.b);
    const samples: DockerStartSample[] = [];
    for (let i = 0; i < runs; i++) {
      for (const t of [h.a, h.b]) samples.push(await plainDockerStart(t, h.lab.image));
    }
    const rows = [h.a, h.b].map((t) => {
      const mine = samples.filter((s) => s.host === t.name);
      return { host: t.name, start: spreadOf(mine.map((s) => s.start_ms)), version: spreadOf(mine.map((s) => s.version_ms)) };
    });
    const command = commandLine('bench:docker-floor', 'dist/bench/docker-floor.js', argv);
    const md = `# Docker's own fixed costs on the lab hosts\n\n${factsMarkdown(command, facts)}\n`
      + `A created, never-run container of the lab's workload image (1 MiB resident), started with \`docker start\`, then removed; ${runs} runs per host, timed by the controller (the command's start to its return; on B through one SSH connection).\n\n`
      + '| Host | docker start: median s | min s | max s | docker version: median s | min s | max s |\n|---|---:|---:|---:|---:|---:|---:|\n'
      + rows.map((r) => `| ${r.host} | ${spreadCells(r.start)} | ${spreadCells(r.version)} |`).join('\n') + '\n\n'
      + `A Docker container cannot be frozen for less than its restore, \`docker start --checkpoint\`, which does what \`docker start\` does and then restores: `
      + `${sec(rows[0]!.start!.median)} s here on host A before any CRIU work.\n`;
    writeFileSync(join(ROOT, 'bench/results/docker-floor.md'), md);
    writeFileSync(join(ROOT, 'bench/results/docker-floor.json'), JSON.stringify({ command, facts, samples }, null, 2) + '\n');
    console.log(md);
  } finally {
    h.b.close();
  }
}

await main();
