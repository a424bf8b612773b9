/**
 * The lazy freeze (post-copy, hybrid): the dump carries everything but the memory (~100 KiB);
 * CRIU then serves the memory from a page server on the source's loopback. The target restores
 * with lazy pages: its lazy-pages daemon pulls the memory, on demand and in the background,
 * through a relay on the controller and the SSH connections.
 *
 * The post-copy window — from the restore until the last page arrived — is `postcopy_ms`: the
 * memory lives on two hosts. The source's tree stays there, stopped, until the target's daemon
 * confirms every page arrived; if the link, the source or the daemon fails, the target copy
 * cannot go on and the run rolls back (what the workload did on the target is lost).
 */
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { CriuService, PageServer } from '../../criu/services.js';
import { relayEndpointOn, startPageRelay, type PageRelay } from '../../transfer/page-relay.js';
import type { Dirs } from '../workload.js';
import { progressCounter, type ProgressCounter } from '../../progress.js';
import type { MoveContext } from './context.js';
import type { Freeze } from './freeze.js';
import { lazyPagesOf } from './window-stats.js';

/** How long the source's CRIU gets to finish after its page stream was dropped. */
const END_WAIT_MS = 10_000;
/** How long a failed window waits for the target's daemon to say why. */
const EXPLAIN_WAIT_MS = 2000;

export class LazyFreeze implements Freeze {
  readonly detail = 'everything but memory; memory stays on the source and is served from there';
  readonly lazyRestore = true;
  private server?: PageServer;
  private relay?: PageRelay;
  private lazy?: CriuService;
  private progress?: ProgressCounter;
  private readonly closers: Array<() => Promise<unknown>> = [];

  constructor(private readonly c: MoveContext, private readonly dirs: Dirs, private readonly parent: string | undefined) {}

  async open(): Promise<void> {}

  async dump(stopping: () => void, serving?: (port: number) => Promise<void>): Promise<void> {
    this.server = await this.c.workload.checkpointLazy(this.dirs, { parent: this.parent, stopping, serving });
  }

  async failedDump(e: unknown): Promise<unknown> {
    return e;
  }

  async collect(): Promise<{ pageBytes: number }> {
    return { pageBytes: 0 };
  }

  servingPort(): number | undefined {
    return this.server?.port;
  }

  /** The target's daemon reaches the source's page server through a relay on the controller. */
  async beforeRestore(): Promise<void> {
    const server = this.server!;
    const progress = (this.progress = progressCounter(this.c.emit, 'postcopy', { host: this.c.target.name, total: this.c.residentBytes }));
    this.relay = await startPageRelay(() => this.c.source.openStream(server.port), {
      onBytes: (n) => progress.add(n), near: 'the target\'s lazy-pages daemon', far: 'the source\'s lazy page server' });
    this.closers.push(this.relay.close);
    const reach = await relayEndpointOn(this.c.target, this.relay);
    this.closers.push(reach.close);
    this.lazy = await this.c.services.remoteLazyPages(this.c.target, { imagesDir: this.dirs.images, workDir: this.dirs.work, tls: this.dirs.tls }, reach.endpoint);
  }

  async window(restoredAt: number): Promise<void> {
    const { report, target } = this.c;
    this.c.emit({ kind: 'step', step: 'postcopy', host: target.name, detail: 'pulling the memory from the source' });
    try {
      const [pageBytes] = await Promise.all([this.relay!.done, this.lazy!.done, this.server!.done]).catch((e: unknown) => this.explain(e));
      this.progress?.end();
      report.postcopy_ms = Date.now() - restoredAt;
      report.bytes.raw += pageBytes;
      report.bytes.wire += pageBytes;
      report.lazy_pages = await lazyPagesOf(target, this.dirs.work);
    } finally {
      await this.close();
    }
  }

  /**
   * When the window fails, the relay, the target's daemon and the source's dump all end, in any
   * order; the daemon's own error says best what went wrong: it wins if it comes soon.
   */
  private async explain(e: unknown): Promise<never> {
    const daemon = await Promise.race([this.lazy!.done.then(() => undefined, (x: unknown) => x), delay(EXPLAIN_WAIT_MS, undefined, { ref: false })]);
    throw daemon ?? e;
  }

  async abort(): Promise<void> {
    this.lazy?.kill();
    await this.close();
    if (this.server) await this.endDump(this.server, this.relay === undefined);
  }

  private async close(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((c) => c()));
  }

  /**
   * Ends the source's CRIU after a failure, leaving the tree stopped there. If the target never
   * connected, connect and hang up (it would wait forever otherwise); a CRIU that still does not
   * finish is killed (its tracees are detached and run on).
   */
  private async endDump(dump: PageServer, neverConnected: boolean): Promise<void> {
    if (neverConnected) {
      const s: Duplex | undefined = await this.c.source.openStream(dump.port).catch(() => undefined);
      s?.destroy();
    }
    const settled = dump.done.then(() => true, () => true);
    const timer = new Promise<boolean>((r) => setTimeout(() => r(false), END_WAIT_MS).unref());
    if (!(await Promise.race([settled, timer]))) dump.kill();
  }
}
