/**
 * Starts the page forwarder (remote/forward.ts) on the source of a post-copy move over a direct
 * page channel, and talks to it: the source's lazy page server then listens on loopback and the
 * target's daemon (or prefetcher) dials the forwarder, which listens on the route's address.
 *
 * It is started before the freeze (its start-up is not the workload's), on a port of CRIU's page
 * channel range (the one the route's probe proved). `upstream` tells it the page server's port
 * once the dump listens. On a source without a node that runs it, the move goes on without it,
 * the page server listening on the route's address itself (the report says why).
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { builtModules, startRemoteProgram, stderrOf } from '../remote-program.js';
import { PAGE_PORTS } from '../criu/services.js';

/** `--page-forwarder`: auto (the default) uses it where the source runs it; off never. */
export type PageForwarderMode = 'auto' | 'off';
export const PAGE_FORWARDER_MODES: readonly PageForwarderMode[] = ['auto', 'off'];

export interface PageForwarder {
  /** The port it listens on, on the address it was given. */
  readonly port: number;
  /** The lazy page server's port on the source's loopback; a connection waits for it. */
  upstream(port: number): void;
  /** Settles with the bytes it carried to the target once its session ended; rejects with why it broke. */
  readonly done: Promise<number>;
  kill(): void;
}

/** Starts it on `source`, listening on `address`; resolves once it listens, or with why it cannot run there. */
export async function startPageForwarder(source: Transport, o: { workDir: string; address: string }): Promise<PageForwarder | { unavailable: string }> {
  const program = await startRemoteProgram(source, {
    dir: posix.join(o.workDir, 'forward'),
    files: builtModules(new URL('./remote/', import.meta.url), ['forward.js']),
    main: 'forward.js',
    args: ['--listen', o.address, '--ports', `${PAGE_PORTS.low}-${PAGE_PORTS.high}`],
    env: { MIGRATE_PAGE_FORWARDER: '1' },
    needs: 'node',
  });
  if ('unavailable' in program) return program;
  const failed = (e: unknown) => new MigrateError('TRANSFER_FAILED', `the page forwarder on ${source.name} failed: ${stderrOf(e)}`, {
    host: source.name,
    hint: 'the restored copy could not get its memory through it; the run rolls back. --page-forwarder off moves without it',
    cause: e,
  });
  let carried: number | undefined;
  program.on('done', (arg) => (carried = Number(arg.split(' ')[0])));
  const done = program.ended.then((e) => {
    if (e !== undefined) throw failed(e);
    if (carried === undefined) throw failed('it ended before its session did');
    return carried;
  });
  done.catch(() => {});
  try {
    const port = await new Promise<number>((resolve, reject) => {
      program.on('listening', (arg) => resolve(Number(arg)));
      void program.ended.then((e) => reject(e ?? new Error('it exited before it listened')));
    });
    return { port, upstream: (p) => program.send(`upstream ${p}`), done, kill: () => program.kill() };
  } catch (e) {
    program.kill();
    return { unavailable: `it did not listen on ${o.address} on ${source.name}: ${stderrOf(e)}` };
  }
}
