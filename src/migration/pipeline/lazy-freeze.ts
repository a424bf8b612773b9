/**
 * The lazy freeze (post-copy, hybrid): the dump carries everything but the memory (~100 KiB);
 * CRIU then serves the memory from a page server on the source's loopback. The target restores
 * with lazy pages: its lazy-pages daemon pulls the memory, on demand and in the background,
 * straight from the source (a direct page channel: page-channel.ts), or through a relay on the
 * controller and the SSH connections. Direct, a page forwarder on the source (where it runs node;
 * `--page-forwarder auto`, the default) carries the page server's replies from loopback to the
 * link: CRIU's own writes to the link are the slow part of the window (transfer/remote/forward.ts).
 * Asked for (`--prefetch auto`; off by default) and where the target runs it, the prefetcher
 * (prefetch/) sits between: it starts the daemon on a socket pair of its own and pulls the memory
 * from the source ahead of it, over the same channel.
 *
 * The post-copy window — from the restore until the last page arrived — is `postcopy_ms`: the
 * memory lives on two hosts. The source's tree stays there, stopped, until the target's daemon
 * confirms every page arrived; if the link, the source or the daemon fails, the target copy
 * cannot go on and the run rolls back (what the workload did on the target is lost).
 */
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import { watchHandshake } from '../../criu/page-tls.js';
import { MigrateError } from '../../../transports/errors.js';
import { setTimeout as delay } from 'node:timers/promises';
import { LOOPBACK, startLazyPagesOn, type CriuService, type PageServer } from '../../criu/services.js';
import { PAGE_SIZE } from '../../criu/stats.js';
import { hostScript } from '../../host-scripts/index.js';
import { ANSWER_WITHIN_MS, relayEndpointOn, createPageRelay, type Endpoint, type PageRelay } from '../../transfer/page-relay.js';
import type { Dirs } from '../workload.js';
import { pollGrowth, progressCounter, type ProgressCounter } from '../../progress.js';
import type { MoveContext } from './context.js';
import type { Freeze } from './freeze.js';
import { lazyPagesOf } from './window-stats.js';
import { DAEMON_SOCKET_FD, startPrefetcher, type Prefetcher } from '../../prefetch/prefetcher.js';
import type { PageForwarder } from '../../transfer/page-forwarder.js';

/** How long the source's CRIU gets to finish after its page stream was dropped. */
const END_WAIT_MS = 10_000;
/** How long a failed window waits for the target's daemon to say why. */
const EXPLAIN_WAIT_MS = 2000;

export class LazyFreeze implements Freeze {
  readonly detail = 'everything but memory; memory stays on the source and is served from there';
  readonly lazyRestore = true;
  private server?: PageServer;
  private relay?: PageRelay;
  /** Where the target's daemon reaches the relay (through SSH). */
  private relayOnTarget?: Endpoint;
  private lazy?: CriuService;
  /** Between the daemon and the source, on the target: pulls ahead (prefetch/prefetcher.ts). */
  private prefetcher?: Prefetcher;
  /** Direct: on the source, between the page server (on loopback then) and the link. */
  private forwarder?: PageForwarder;
  private progress?: ProgressCounter;
  /** Direct: stops polling what the target's daemon read; resolves with the last figure. */
  private pulled?: () => Promise<number>;
  private readonly closers: Array<() => Promise<unknown>> = [];

  /** `direct`: the source's address the target's daemon pulls from (a direct page channel); through SSH without it. */
  constructor(private readonly c: MoveContext, private readonly dirs: Dirs, private readonly parent: string | undefined, private readonly direct?: string) {}

  /**
   * Through SSH: the relay and its reverse forward on the target are set up before the freeze
   * (a forward is an SSH round trip, measured 0–60 ms); the relay reaches the source's page
   * server, whose port the dump picks, only when the target's daemon connects.
   */
  async open(): Promise<void> {
    await Promise.all([this.openPrefetcher(), this.openForwarder()]);
    if (this.direct) return;
    this.relay = createPageRelay(() => this.c.source.openStream(this.server!.port), {
      onBytes: (n) => this.progress?.add(n), near: `the target's ${this.prefetcher ? 'prefetcher' : 'lazy-pages daemon'}`, far: 'the source\'s lazy page server' });
    this.closers.push(this.relay.close);
    const reach = await relayEndpointOn(this.c.target, this.relay);
    this.closers.push(reach.close);
    this.relayOnTarget = reach.endpoint;
  }

  /** `--prefetch auto` (off by default): started before the freeze where the target runs it; the report says whether. */
  private async openPrefetcher(): Promise<void> {
    const { report, target } = this.c;
    if (this.c.prefetch !== 'auto') {
      if (this.c.prefetch === 'off') report.prefetch = { used: false, reason: '--prefetch off' };
      return;
    }
    const p = await startPrefetcher(target, { workDir: this.dirs.work, imagesDir: this.dirs.images, tls: this.dirs.tls, answerWithinMs: ANSWER_WITHIN_MS });
    if ('unavailable' in p) {
      report.prefetch = { used: false, reason: p.unavailable };
      return;
    }
    this.prefetcher = p;
    this.closers.push(async () => p.kill());
    report.prefetch = { used: true };
  }

  /** Direct, `--page-forwarder auto` (the default): started before the freeze where the source runs it; the report says whether. */
  private async openForwarder(): Promise<void> {
    const { report, source } = this.c;
    if (!this.direct) return;
    if (this.c.pageForwarder === 'off') {
      report.page_forwarder = { used: false, reason: '--page-forwarder off' };
      return;
    }
    const f = await this.c.services.pageForwarder(source, { workDir: this.dirs.work, address: this.direct });
    if ('unavailable' in f) {
      report.page_forwarder = { used: false, reason: f.unavailable };
      return;
    }
    this.forwarder = f;
    this.closers.push(async () => f.kill());
    report.page_forwarder = { used: true };
  }

  /** Where the source's page server listens: the route's address, or loopback behind the forwarder (or SSH). */
  private get serverAddress(): string {
    return this.forwarder || !this.direct ? LOOPBACK : this.direct;
  }

  async dump(stopping: () => void, serving?: (at: Endpoint) => Promise<void>): Promise<void> {
    this.server = await this.c.workload.checkpointLazy(this.dirs, { parent: this.parent, stopping, serving, address: this.serverAddress });
    this.forwarder?.upstream(this.server.port);
  }

  async failedDump(e: unknown): Promise<unknown> {
    await this.close();
    return e;
  }

  async collect(): Promise<{ pageBytes: number }> {
    return { pageBytes: 0 };
  }

  serving(): Endpoint | undefined {
    return this.server && { host: this.serverAddress, port: this.server.port };
  }

  /** The target's daemon reaches the source's page server directly, or through the relay on the controller. */
  async beforeRestore(): Promise<void> {
    this.progress = progressCounter(this.c.emit, 'postcopy', { host: this.c.target.name, total: this.c.residentBytes });
    const dirs = { imagesDir: this.dirs.images, workDir: this.dirs.work, tls: this.dirs.tls };
    const from = this.direct ? { host: this.direct, port: this.forwarder?.port ?? this.server!.port } : this.relayOnTarget!;
    if (this.prefetcher) {
      this.prefetcher.connect(from);
      this.lazy = await startLazyPagesOn(this.c.target, dirs, this.prefetcher, DAEMON_SOCKET_FD);
    } else {
      this.lazy = await this.c.services.remoteLazyPages(this.c.target, dirs, from);
    }
  }

  async window(restoredAt: number): Promise<void> {
    const { report, target } = this.c;
    this.prefetcher?.start();
    this.c.emit({ kind: 'step', step: 'postcopy', host: target.name, detail: `pulling the memory from the source${this.direct ? ` (${this.direct}, direct)` : ''}${this.prefetcher ? ', ahead of the daemon' : ''}` });
    if (this.direct) {
      // Its progress: what the daemon has read, polled (nothing on the controller sees the bytes).
      const progress = this.progress!;
      const poll = pollGrowth(() => target.exec(hostScript('lazy-pages-read-bytes', this.dirs.work)).then((r) => Number(r.stdout.trim())), (n) => progress.add(n));
      this.pulled = () => poll.stop();
      this.closers.push(this.pulled);
    }
    try {
      const [relayed, , , prefetched] = await Promise.race([Promise.all([this.relay?.done, this.lazy!.done, this.server!.done, this.prefetcher?.done, this.forwarder?.done]), this.handshake()])
        .catch((e: unknown) => this.explain(e));
      if (prefetched && report.prefetch) report.prefetch.stats = prefetched;
      report.postcopy_ms = Date.now() - restoredAt;
      report.lazy_pages = await lazyPagesOf(target, this.dirs.work);
      // Direct: the pages the daemon placed (its log), or what it was last seen to have read.
      const pulled = await this.pulled?.();
      const pageBytes = relayed ?? (report.lazy_pages ? report.lazy_pages.total * PAGE_SIZE : pulled ?? 0);
      if (this.relay === undefined && pulled !== undefined && pageBytes > pulled) this.progress?.add(pageBytes - pulled);
      this.progress?.end();
      report.bytes.raw += pageBytes;
      report.bytes.wire += pageBytes;
    } finally {
      await this.close();
    }
  }

  /**
   * Direct: the daemon connects to the source's page server once the restore handed it the
   * memory to fill; without a completed TLS handshake within ANSWER_WITHIN_MS, something else
   * holds that port (CRIU would wait for good, the restored copy stuck on its first fault): the
   * window fails and the run rolls back. Through the relay, the relay enforces the same rule.
   */
  private async handshake(): Promise<never> {
    if (!this.direct) return new Promise<never>(() => {});
    // With the prefetcher, it is the one that dials the source; it says when its handshake completed.
    const watch = this.prefetcher ? upstreamWithin(this.prefetcher, ANSWER_WITHIN_MS) : watchHandshake(this.c.target, posix.join(this.dirs.work, 'lazy-pages.log'), ANSWER_WITHIN_MS);
    this.closers.push(async () => watch.stop());
    if (await watch.seen) return new Promise<never>(() => {});
    // The source's page server may be stuck in a handshake with whoever caught its port (or the forwarder's): ended, its CRIU exits.
    await this.c.source.exec(hostScript('cut-connections', 'from', this.serverAddress, String(this.server!.port)), { allowFailure: true }).catch(() => {});
    throw new MigrateError('TRANSFER_FAILED', `${this.c.target.name}'s ${this.prefetcher ? 'prefetcher' : 'lazy-pages daemon'} did not complete its TLS handshake with ${this.direct}:${this.forwarder?.port ?? this.server!.port}${this.forwarder ? ` (the page forwarder, for the page server on ${LOOPBACK}:${this.server!.port})` : ''} within ${ANSWER_WITHIN_MS / 1000} s`, {
      host: this.c.target.name,
      hint: 'something else may hold the lazy page server\'s port on the source (a local user, a host-network container) or CRIU hangs; nothing was sent in clear. Use --page-channel ssh to keep the pages inside SSH',
    });
  }

  /**
   * When the window fails, the relay, the target's daemon and the source's dump all end, in any
   * order; the daemon's own error says best what went wrong: it wins if it comes soon. With the
   * prefetcher between them, the daemon only sees its page server go: the prefetcher's error
   * wins then, unless it only says that the daemon failed.
   */
  private async explain(e: unknown): Promise<never> {
    const failure = (p: Promise<unknown> | undefined) => (p ? p.then(() => undefined, (x: unknown) => x) : Promise.resolve(undefined));
    const soon = delay(EXPLAIN_WAIT_MS, undefined, { ref: false });
    const [prefetcher, daemon] = await Promise.all([Promise.race([failure(this.prefetcher?.done), soon]), Promise.race([failure(this.lazy!.done), soon])]);
    const itsOwn = prefetcher instanceof Error && !/the lazy-pages daemon exited/.test(prefetcher.message);
    throw (itsOwn ? prefetcher : undefined) ?? daemon ?? prefetcher ?? e;
  }

  async abort(): Promise<void> {
    this.lazy?.kill();
    this.prefetcher?.kill();
    this.forwarder?.kill();
    await this.close();
    if (this.server) await this.endDump(this.server, this.lazy === undefined);
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
      const s: Duplex | undefined = await this.c.source.openStream(dump.port, this.serverAddress).catch(() => undefined);
      s?.destroy();
    }
    const settled = dump.done.then(() => true, () => true);
    const timer = new Promise<boolean>((r) => setTimeout(() => r(false), END_WAIT_MS).unref());
    if (!(await Promise.race([settled, timer]))) dump.kill();
  }
}

/** Like watchHandshake: whether the prefetcher's handshake with the source completed within `ms`. */
function upstreamWithin(p: Prefetcher, ms: number): { seen: Promise<boolean>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const seen = Promise.race([p.upstream.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  void seen.then(() => clearTimeout(timer));
  return { seen, stop: () => clearTimeout(timer) };
}
