/**
 * Post-copy's dump through runc (Docker's `docker checkpoint create`, or `runc checkpoint` of a
 * container runc runs by itself): `lazy-pages` in the scoped runc.conf makes CRIU dump everything
 * but the memory and then serve the memory from a page server on the source's loopback (or its
 * address, on a direct page channel);
 * `leave-stopped` keeps the processes there, stopped, whatever happens to the transfer. The
 * command blocks until every page was fetched and gives no readiness signal of its own: ready is
 * when that page server listens (wait-listening.sh, on the host).
 */
import { tlsConfLines, type TlsFiles } from '../criu/page-tls.js';
import type { Transport } from '../../transports/transport.js';
import type { Endpoint } from '../transfer/page-relay.js';
import { LOOPBACK, randomPagePort, type PageServer } from '../criu/services.js';
import { LEAVE_STOPPED, withRuncConf } from './runc-conf.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';

/** How long the dump of everything but the memory may take before the page server listens. */
const LAZY_READY_MS = 60_000;

export interface LazyDumpOptions {
  /** Symlink to the images directory (runc.conf's images-dir) and CRIU's work dir. */
  imagesLink: string;
  workDir: string;
  /** The pre-dump the dump builds on (hybrid), relative to the images dir. */
  parent?: string;
  /** Names the workload in messages. */
  label: string;
  /** More CRIU options for runc.conf (the TCP policy's: criu/tcp-policy.ts). */
  criuOptions?: readonly string[];
  /** Awaited with the address and port before the dump starts (the source's guard: host-guard.ts lazy). */
  serving?: (at: Endpoint) => Promise<void>;
  /** Where the page server listens: the source's address on a direct page channel; loopback otherwise. */
  address?: string;
  /** The run's page channel credential: the lazy page server speaks TLS (criu/page-tls.ts). */
  tls: TlsFiles;
}

/** runc.conf's lines for a dump that builds on the pre-dump in `parent` (relative to the images dir). */
export const onParent = (parent?: string): string[] => (parent ? ['track-mem', `prev-images-dir ${parent}`] : []);

/** Starts `dump` (the command that checkpoints through runc) with the lazy override; returns once its page server listens. */
export async function lazyDumpThroughRunc(t: Transport, o: LazyDumpOptions, dump: () => Promise<unknown>): Promise<PageServer> {
  const port = randomPagePort();
  const address = o.address ?? LOOPBACK;
  await o.serving?.({ host: address, port });
  const extra = ['lazy-pages', LEAVE_STOPPED, ...onParent(o.parent), ...(o.criuOptions ?? []), `address ${address}`, `port ${port}`, ...tlsConfLines(o.tls)];
  const done = withRuncConf(t, { imagesLink: o.imagesLink, workDir: o.workDir, extra }, dump).then(() => undefined);
  done.catch(() => {});
  // One command waits on the host (looking every few ms) until the page server listens.
  const waiter = t.spawn(hostScript('wait-listening', String(port), String(LAZY_READY_MS / 1000)));
  waiter.stdout.resume();
  const hint = `see dump.log in ${o.workDir} there`;
  const listening = waiter.done.catch((e: unknown) => {
    throw new MigrateError('CRIU_FAILED', `the lazy checkpoint of ${o.label} did not start serving pages`, { host: t.name, hint, cause: e });
  });
  // The dump's own failure explains it best; it normally ends after the window, long after this wait.
  const ended = done.then(() => {
    throw new MigrateError('CRIU_FAILED', `the lazy checkpoint of ${o.label} ended before it served any page`, { host: t.name, hint });
  });
  ended.catch(() => {});
  try {
    await Promise.race([listening, ended]);
  } catch (e) {
    waiter.kill();
    throw e;
  }
  // The command cannot be asked to stop; hanging up the page stream ends it (see migration/pipeline/lazy-freeze.ts).
  return { port, done, kill: () => {} };
}
