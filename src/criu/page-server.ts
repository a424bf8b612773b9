/**
 * A CRIU page server on a host: `criu page-server` receives the memory pages a `criu dump
 * --page-server` sends and writes them as pagemap-*.img / pages-*.img into its images dir. It
 * serves one connection and exits. It listens on the host's loopback only: other hosts reach it
 * through the SSH transport's port forward, never over the network directly.
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../errors.js';
import { criuEnv } from './env.js';
import { logErrors } from './run.js';

export interface PageServer {
  /** Loopback port on the server's host. */
  port: number;
  /** Settles when the page server has received everything and exited. */
  done: Promise<void>;
  kill(): void;
}

export interface PageServerOptions {
  imagesDir: string;
  /** Where its log goes (default imagesDir). */
  workDir?: string;
  /** Log file name in workDir. */
  log?: string;
}

const PORT_TRIES = 5;
const randomPort = () => 20000 + Math.floor(Math.random() * 30000);

/** Starts a page server on a free loopback port of `t`'s host; resolves once it listens. */
export async function startPageServer(t: Transport, o: PageServerOptions): Promise<PageServer> {
  let last: unknown;
  for (let i = 0; i < PORT_TRIES; i++) {
    try {
      return await tryPort(t, o, randomPort());
    } catch (e) {
      last = e;
      if (!(e instanceof MigrateError) || !/Address already in use/.test(e.stderr ?? '')) throw e;
    }
  }
  throw last;
}

async function tryPort(t: Transport, o: PageServerOptions, port: number): Promise<PageServer> {
  const workDir = o.workDir ?? o.imagesDir;
  const log = o.log ?? 'page-server.log';
  // --status-fd 1: CRIU writes one byte to stdout once it listens (util.c, status_ready()).
  const cmd = t.spawn(['criu', 'page-server', '-D', o.imagesDir, '-W', workDir, '-o', log, '-v4',
    '--address', '127.0.0.1', '--port', String(port), '--status-fd', '1'], { env: criuEnv() });
  const failed = async (e: unknown): Promise<never> => {
    const lines = await logErrors(t, posix.join(workDir, log));
    throw new MigrateError('CRIU_FAILED', 'criu page-server failed', {
      host: t.name,
      stderr: lines.join('\n') || (e instanceof MigrateError ? e.stderr : String(e)),
      hint: `check free space under ${posix.dirname(o.imagesDir)} on ${t.name} and the link to it`,
      cause: e,
    });
  };
  const done = cmd.done.then(() => undefined, failed);
  done.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    cmd.stdout.once('data', () => resolve());
    done.then(() => reject(new MigrateError('CRIU_FAILED', 'criu page-server exited before listening', { host: t.name })), reject);
  });
  cmd.stdout.resume();
  return { port, done, kill: () => cmd.kill() };
}
