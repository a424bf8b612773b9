/**
 * CRIU's long-running helpers, started on a host through a transport and awaited like commands:
 *
 * - `criu page-server` receives the memory pages a `criu dump --page-server` sends and writes
 *   them as pagemap-*.img / pages-*.img into its images dir, then exits. It listens on the
 *   host's loopback, where other hosts reach it through the SSH transport, or on the address
 *   the other host dials directly (a direct page channel: pipeline/page-channel.ts); either way
 *   it speaks TLS with the run's credential (page-tls.ts).
 * - `criu lazy-pages` serves a `criu restore --lazy-pages` from images on its own host: the
 *   restored workload runs at once and its memory is filled through userfaultfd, on demand and
 *   in the background; it exits once every page is in place. The restore finds it through
 *   `lazy-pages.socket` in the shared work dir.
 *
 * Both are started with `--status-fd 1`: CRIU writes one byte to stdout once it is ready
 * (util.c, status_ready()), so nothing connects before it listens.
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import type { Endpoint } from '../transfer/page-relay.js';
import { MigrateError } from '../../transports/errors.js';
import { criuEnv } from './env.js';
import { tlsArgs, type TlsFiles } from './page-tls.js';
import { logErrors } from './run.js';

export interface CriuService {
  /** Settles when the service has finished its work and exited; rejects with CRIU's errors. */
  done: Promise<void>;
  kill(): void;
}

export interface PageServer extends CriuService {
  /** Loopback port on the server's host. */
  port: number;
}

export interface ServiceDirs {
  imagesDir: string;
  /** Where its log (and lazy-pages.socket) go. */
  workDir: string;
  /** The run's page channel credential (page-tls.ts): a page server and its clients speak TLS. */
  tls?: TlsFiles;
}

/** The directories of a service on a page channel: the credential is not optional there. */
export type ChannelDirs = ServiceDirs & { tls: TlsFiles };

/** The command line of a service: it says it is ready with a byte on stdout. */
const serviceArgv = (what: string, d: ServiceDirs, log: string, args: readonly string[]): string[] =>
  ['criu', what, '-D', d.imagesDir, '-W', d.workDir, '-o', log, '-v4', '--status-fd', '1', ...args];

/** A service's failure: CRIU_FAILED with the errors of its log (else what `e` says). */
function serviceFailed(t: Transport, what: string, d: ServiceDirs, log: string, hint: string): (e: unknown) => Promise<never> {
  return async (e) => {
    const lines = await logErrors(t, posix.join(d.workDir, log));
    throw new MigrateError('CRIU_FAILED', `criu ${what} failed`, {
      host: t.name,
      stderr: lines.join('\n') || (e instanceof MigrateError ? e.stderr : String(e)),
      hint,
      cause: e,
    });
  };
}

async function startService(t: Transport, what: string, args: string[], d: ServiceDirs, log: string, hint: string): Promise<CriuService> {
  const cmd = t.spawn(serviceArgv(what, d, log, args), { env: criuEnv() });
  const failed = serviceFailed(t, what, d, log, hint);
  const done = cmd.done.then(() => undefined, failed);
  done.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    cmd.stdout.once('data', () => resolve());
    done.then(() => reject(new MigrateError('CRIU_FAILED', `criu ${what} exited before it was ready`, { host: t.name })), reject);
  });
  cmd.stdout.resume();
  return { done, kill: () => cmd.kill() };
}

const PORT_TRIES = 5;
/** The ports of the page channels: 20000–49999 (the firewall advice in the README names this range). */
export const PAGE_PORTS = { low: 20000, high: 49999 } as const;
/** A port for a CRIU page server, of PAGE_PORTS. */
export const randomPagePort = (): number => PAGE_PORTS.low + Math.floor(Math.random() * (PAGE_PORTS.high - PAGE_PORTS.low + 1));

/** Tries random loopback ports until `start` does not fail with "Address already in use". */
async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < PORT_TRIES; i++) {
    try {
      return await start(randomPagePort());
    } catch (e) {
      last = e;
      if (!(e instanceof MigrateError) || !/Address already in use/.test(e.stderr ?? '')) throw e;
    }
  }
  throw last;
}

/** Where page servers listen unless a direct channel names the host's address. */
export const LOOPBACK = '127.0.0.1';

/** `criu page-server` on a free port of `address` on `t`'s host; resolves once it listens. */
function pageServerOn(t: Transport, d: ServiceDirs, address: string, args: string[], log: string, hint: string): Promise<PageServer> {
  return onFreePort(async (port) => ({
    ...(await startService(t, 'page-server', ['--address', address, '--port', String(port), ...args], d, log, hint)),
    port,
  }));
}

/** Starts a page server on a free port of `address` on `t`'s host; resolves once it listens. */
export function startPageServer(t: Transport, d: ChannelDirs, address = LOOPBACK): Promise<PageServer> {
  return pageServerOn(t, d, address, tlsArgs(d.tls), 'page-server.log', `check free space under ${posix.dirname(d.imagesDir)} on ${t.name} and the link to it`);
}

/**
 * A page server that only shows a port of `address` can be reached: no credential, nothing to
 * receive (a connection that hangs up at once ends it). Started in `d.workDir`, before a freeze.
 */
export function startProbeServer(t: Transport, d: ServiceDirs, address: string): Promise<PageServer> {
  return pageServerOn(t, { imagesDir: d.imagesDir, workDir: d.workDir }, address, [], 'probe.log', `${address} is not an address of ${t.name}, or CRIU cannot listen there`);
}

/**
 * Post-copy's source side: `criu dump --lazy-pages` freezes the tree, writes everything but its
 * memory, then serves the memory from a page server on a port of `address` (loopback unless a
 * direct channel) on `t`'s host until the target's lazy-pages daemon hangs up. Resolves once the
 * non-memory images are written and the page server listens. `serving` gets each address and
 * port before the dump is started on it.
 *
 * CRIU 4.1.1 takes any hang-up as the end of the transfer (page_server_serve: a 0-byte read
 * ends the loop without error) and then kills the tree, exit code 0, even when the target got
 * only part of the memory: measured with a lazy-pages daemon killed mid-transfer. Hence
 * `--leave-stopped`: the tree stays on the source, stopped, memory intact, until migrate knows
 * from the target's daemon whether every page arrived (then SIGKILL) or not (then SIGCONT).
 */
export function startLazyDump(t: Transport, pid: number, d: ChannelDirs, parent?: string, extraArgs: readonly string[] = [],
  serving?: (at: Endpoint) => Promise<void>, address = LOOPBACK): Promise<PageServer> {
  // Hybrid: on top of pre-copy rounds, only what they did not carry is left to serve.
  const chain = parent ? ['--track-mem', '--prev-images-dir', parent] : [];
  return onFreePort(async (port) => {
    await serving?.({ host: address, port });
    const dump = await startService(t, 'dump', ['-t', String(pid), '--lazy-pages', '--leave-stopped', ...chain, ...extraArgs, '--address', address, '--port', String(port), ...tlsArgs(d.tls)], d, 'dump.log',
      'see dump.log in the work directory there');
    return { ...dump, port };
  });
}

/**
 * Post-copy's target side: a lazy-pages daemon that fetches the memory from the source's page
 * server (`pageServer`: the source's own address on a direct channel, or a port on the target's
 * loopback leading there), on demand and in the background, for a `criu restore --lazy-pages`.
 */
export function startRemoteLazyPages(t: Transport, d: ChannelDirs, pageServer: Endpoint): Promise<CriuService> {
  return startService(t, 'lazy-pages', ['--page-server', '--address', pageServer.host, '--port', String(pageServer.port), ...tlsArgs(d.tls)], d, 'lazy-pages.log', REMOTE_LAZY_HINT);
}

const REMOTE_LAZY_HINT = 'the restored workload could not get its memory from the source; it was stopped there';

/** What starts a lazy-pages daemon with its page server on a socket it inherits (`--ps-socket`). */
export interface DaemonStarter {
  startDaemon(argv: readonly string[]): Promise<void>;
  readonly daemonExit: Promise<number | string>;
  kill(): void;
}

/**
 * The same daemon, started by the post-copy prefetcher on the target (prefetch/prefetcher.ts)
 * with a socket pair as its page-server connection (fd `fd`): no port and no TLS between them.
 */
export async function startLazyPagesOn(t: Transport, d: ServiceDirs, starter: DaemonStarter, fd: number): Promise<CriuService> {
  const failed = serviceFailed(t, 'lazy-pages', d, 'lazy-pages.log', REMOTE_LAZY_HINT);
  await starter.startDaemon(serviceArgv('lazy-pages', d, 'lazy-pages.log', ['--page-server', '--ps-socket', String(fd)])).catch(failed);
  const done = starter.daemonExit.then((x) => (x === 0 ? undefined : failed(new Error(`it exited with ${x}`))));
  done.catch(() => {});
  return { done, kill: () => starter.kill() };
}

/** Starts the lazy-pages daemon for a restore from `d.imagesDir`; resolves once it listens. */
export function startLazyPages(t: Transport, d: ServiceDirs): Promise<CriuService> {
  return startService(t, 'lazy-pages', [], d, 'lazy-pages.log', 'the restored workload could not get all its memory; it was stopped there');
}
