/**
 * Starts the prefetcher (remote/main.ts) on the target of a post-copy move and talks to it.
 *
 * Before the freeze: its modules are written into the run's directory there and it is started
 * with the target's `node` (Node 18 or later), so nothing of its start-up is paid while the
 * workload is frozen. On a target without a node that runs it, the move goes on as before, the
 * daemon pulling from the source itself (the report says why).
 * After the dump: `connect` tells it where the source's lazy page server is reached, and
 * `startDaemon` has it start CRIU's lazy-pages daemon on a socket pair of its own. Once the
 * restore returned, `start` lets it pull ahead (during the restore it only passes on what the
 * daemon asks for: the CPU is the freeze's then).
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { builtModules, startRemoteProgram, stderrOf } from '../remote-program.js';
import { criuEnv } from '../criu/env.js';
import type { TlsFiles } from '../criu/page-tls.js';
import type { Endpoint } from '../transfer/page-relay.js';
import type { CacheStats } from './remote/page-cache.js';
import { PREFETCHER_NODE_MAJOR } from './remote/node-version.js';

export { PREFETCHER_NODE_MAJOR, nodeVersionProblem } from './remote/node-version.js';

/** `--prefetch`: off (the default) never; auto uses it where the target runs it. */
export type PrefetchMode = 'auto' | 'off';
export const PREFETCH_MODES: readonly PrefetchMode[] = ['auto', 'off'];

/** The program's modules, as built in remote/ next to this one. */
const MODULES = ['main.js', 'node-version.js', 'page-cache.js', 'page-protocol.js', 'pagemap.js', 'upstream.js'] as const;

/** The daemon's page-server connection in the process the prefetcher starts it as. */
export const DAEMON_SOCKET_FD = 3;

export interface Prefetcher {
  /** Where the source's lazy page server is reached from the target; it connects at once. */
  connect(to: Endpoint): void;
  /** Starts the lazy-pages daemon (`argv`, its page server on fd DAEMON_SOCKET_FD); resolves once it is ready. */
  startDaemon(argv: readonly string[]): Promise<void>;
  /** Settles with the daemon's exit code (or signal name) once it exited. */
  readonly daemonExit: Promise<number | string>;
  /** Pull ahead from now on (once the restore returned); before, only what the daemon asks for. */
  start(): void;
  /** Resolves once the source's page server completed the TLS handshake with it. */
  readonly upstream: Promise<void>;
  /** Settles with its figures once the daemon's session ended well; rejects with why not. */
  readonly done: Promise<CacheStats>;
  /** Stops it and the daemon it started. */
  kill(): void;
}

export interface PrefetcherOptions {
  /** The run's work directory on the target: the program goes into `prefetch/` there. */
  workDir: string;
  imagesDir: string;
  tls: TlsFiles;
  answerWithinMs: number;
}

/** Starts it; resolves once it runs, or with the reason it cannot run on `t`'s host (the caller moves without it). */
export async function startPrefetcher(t: Transport, o: PrefetcherOptions): Promise<Prefetcher | { unavailable: string }> {
  const program = await startRemoteProgram(t, {
    dir: posix.join(o.workDir, 'prefetch'),
    files: builtModules(new URL('./remote/', import.meta.url), MODULES),
    main: 'main.js',
    args: ['--images', o.imagesDir, '--cert', o.tls.cert, '--key', o.tls.key, '--answer-within-ms', String(o.answerWithinMs)],
    env: { ...criuEnv(), MIGRATE_PREFETCHER: '1' },
    needs: `Node ${PREFETCHER_NODE_MAJOR} or later`,
  });
  if ('unavailable' in program) return program;
  let stats: CacheStats | undefined;
  program.on('stats', (arg) => (stats = JSON.parse(arg) as CacheStats));
  const failed = (e: unknown) => new MigrateError('TRANSFER_FAILED', `the prefetcher on ${t.name} failed: ${stderrOf(e)}`, {
    host: t.name,
    hint: 'the restored copy could not get its memory through it; the run rolls back. --prefetch off moves without it',
    cause: e,
  });
  const done = program.ended.then((e) => {
    if (e !== undefined) throw failed(e);
    if (!stats) throw failed('it ended without its figures');
    return stats;
  });
  done.catch(() => {});
  const upstream = new Promise<void>((resolve) => program.on('upstream', () => resolve()));
  const daemonExit = new Promise<number | string>((resolve) => {
    program.on('daemon-exit', (arg) => resolve(/^\d+$/.test(arg) ? Number(arg) : arg));
    void program.ended.then(() => resolve('its prefetcher ended'));
  });
  return {
    connect: (to) => program.send(`connect ${to.host} ${to.port}`),
    startDaemon: (argv) => new Promise<void>((resolve, reject) => {
      program.on('daemon-ready', () => resolve());
      void daemonExit.then((x) => reject(new Error(`the lazy-pages daemon exited (${x}) before it was ready`)));
      program.send(`daemon ${JSON.stringify(argv)}`);
    }),
    daemonExit,
    start: () => program.send('start'),
    upstream,
    done,
    kill: () => program.kill(),
  };
}
