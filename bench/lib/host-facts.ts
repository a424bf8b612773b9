/**
 * What a result depends on besides the code: the machine, both hosts' CRIU and Docker, the
 * commit, the load. Every results file carries these with the command that made it.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Transport } from '../../src/index.js';
import { quoteArg } from '../../transports/quote.js';
import { out, sh } from './commands.js';
import { ROOT } from './lab.js';
import { runcConf } from './runc-conf-hold.js';

export interface PerHost<T = string | null> { a: T; b: T }

export interface HostFacts {
  date: string;
  /** Short commit, with a note when the working tree has uncommitted changes. */
  commit: string;
  commitDirty: boolean;
  kernel: string;
  cpus: number;
  cpuModel: string;
  node: string;
  criu: PerHost;
  docker: PerHost;
  runcConf: PerHost;
}

export const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').trim();

/**
 * Facts of both hosts. A fact a host cannot give is null, not a failed benchmark: the
 * soft-dirty guest (bench/precopy-guest.ts) has no Docker, and a host without runc.conf has none.
 */
export async function hostFacts(a: Transport, b: Transport): Promise<HostFacts> {
  const ask = (argv: string[]) => (t: Transport): Promise<string | null> => out(t, argv).catch(() => null);
  const both = async <T>(f: (t: Transport) => Promise<T>): Promise<PerHost<T>> => ({ a: await f(a), b: await f(b) });
  const commitDirty = sh('git', '-C', ROOT, 'status', '--porcelain') !== '';
  return {
    date: new Date().toISOString(),
    commit: sh('git', '-C', ROOT, 'rev-parse', '--short', 'HEAD') + (commitDirty ? ' (working tree has uncommitted changes)' : ''),
    commitDirty,
    kernel: sh('uname', '-r'),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    criu: await both(ask(['sh', '-c', 'criu --version | head -n 1'])),
    docker: await both(ask(['docker', 'version', '--format', '{{.Server.Version}}'])),
    runcConf: await both(runcConf),
  };
}

/** The command line as the reader would type it: `npm run SCRIPT -- ARGS` when run that way. */
export function commandLine(npmScript: string, file: string, argv: string[]): string {
  const args = argv.map(quoteArg).join(' ');
  if (process.env.npm_lifecycle_event === npmScript) return `npm run ${npmScript}${args ? ` -- ${args}` : ''}`;
  return `node ${file}${args ? ` ${args}` : ''}`;
}

/** The header lines every results Markdown file starts with (after its title). */
export function factsMarkdown(command: string, f: HostFacts): string {
  return `Command: \`${command}\`  \nDate: ${f.date}  \nCommit: ${f.commit}  \nKernel: ${f.kernel}  \nCPUs: ${f.cpus} x ${f.cpuModel}  \n`
    + `CRIU: A ${f.criu.a}, B ${f.criu.b}  \nDocker: A ${f.docker.a}, B ${f.docker.b}  \nNode: ${f.node}\n`;
}
