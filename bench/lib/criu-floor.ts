/**
 * CRIU's own floor for a process tree's post-copy freeze (issue 20), with no migrate in between:
 * `criu dump --lazy-pages` until its page server listens, a lazy-pages daemon pulling from it over
 * TLS (as migrate's channels are), and `criu restore --lazy-pages` until it returned; then the
 * fill, until every page is in place. All on one host over loopback, or with the daemon and the
 * copy on another host across a link (FloorPlace). The tree must be the init of its own PID
 * namespace (the bench's trees are), so that its copy can be restored beside the stopped
 * original. Everything runs through the same helpers migrate uses (src/criu/services.ts,
 * run.ts), back to back.
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { installPageCredential, newPageCredential, tlsFilesIn } from '../../src/criu/page-tls.js';
import { dumpFreezeStartedAt, restore } from '../../src/criu/run.js';
import { LOOPBACK, startLazyDump, startRemoteLazyPages } from '../../src/criu/services.js';
import { stopwatch } from './stats.js';

export interface CriuFloor {
  /** From the dump's start until the restored copy was running. */
  totalMs: number;
  /**
   * From CRIU freezing the tree (as its dump's log says: migrate's report counts its freeze from
   * there) until the restored copy was running: totalMs less CRIU's start-up before it froze
   * anything. Undefined when the log does not say.
   */
  frozenMs?: number;
  /** The lazy dump until its page server listened. */
  dumpMs: number;
  /** The lazy-pages daemon until it was ready. */
  daemonMs: number;
  /** `criu restore --lazy-pages` until it returned. */
  restoreMs: number;
  /**
   * From the restore's return until the daemon had every page and it and the dump's page server
   * exited: CRIU's own post-copy window for this memory on this path. Undefined when either
   * failed (fillFailed says why) or they were killed after FILL_WAIT_MS.
   */
  fillMs?: number;
  fillFailed?: string;
}

/** How long the daemon and the dump get to move the memory after the restore, before they are killed. */
const FILL_WAIT_MS = 60_000;

/**
 * Where the copy is restored (default: on `t`, the daemon pulling over loopback). `on` another
 * host that sees `dir` at the same path (the lab's hosts share it), pulling from the dump's page
 * server at `address`, one of `t`'s addresses that host reaches: CRIU alone across that link.
 */
export interface FloorPlace { on: Transport; address: string }

/** Measures the floor on `t` for the tree at `pid`, working in `dir` (root's alone); leaves the original stopped and the copy running. */
export async function measureCriuFloor(t: Transport, pid: number, dir: string, place?: FloorPlace): Promise<CriuFloor> {
  const images = posix.join(dir, 'floor-images');
  const dumpWork = posix.join(dir, 'floor-dump');
  const restoreWork = posix.join(dir, 'floor-restore');
  await t.exec(['mkdir', '-m', '0700', images, dumpWork, restoreWork]);
  const tls = tlsFilesIn(dir);
  const there = place?.on ?? t;
  const address = place?.address ?? LOOPBACK;
  await installPageCredential(place ? [t, there] : [t], tls, await newPageCredential());

  const lap = stopwatch();
  const issued = Date.now();
  const server = await startLazyDump(t, pid, { imagesDir: images, workDir: dumpWork, tls }, undefined, [], undefined, address);
  const dumpMs = lap();
  const daemon = await startRemoteLazyPages(there, { imagesDir: images, workDir: restoreWork, tls }, { host: address, port: server.port });
  const daemonMs = lap();
  try {
    await restore(there, { imagesDir: images, workDir: restoreWork, pidfile: posix.join(restoreWork, 'restored.pid'), lazyPages: true });
  } catch (e) {
    daemon.kill();
    server.kill();
    throw e;
  }
  const restoreMs = lap();
  const filled = Promise.all([daemon.done, server.done]).then(() => 'filled', (e: unknown) => `failed: ${e instanceof Error ? e.message : String(e)}`);
  const timer = new Promise<string>((resolve) => setTimeout(() => resolve(`not filled within ${FILL_WAIT_MS / 1000} s`), FILL_WAIT_MS).unref());
  const fill = await Promise.race([filled, timer]);
  const fillMs = lap();
  if (fill !== 'filled') {
    daemon.kill();
    server.kill();
  }
  const totalMs = dumpMs + daemonMs + restoreMs;
  const frozeAt = await dumpFreezeStartedAt(t, dumpWork).catch(() => undefined);
  return {
    totalMs, ...(frozeAt === undefined ? {} : { frozenMs: Math.round(totalMs - (frozeAt - issued)) }), dumpMs, daemonMs, restoreMs,
    ...(fill === 'filled' ? { fillMs } : { fillFailed: fill }),
  };
}
