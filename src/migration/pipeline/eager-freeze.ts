/**
 * The eager freeze (cold, pre-copy): the dump carries the memory. Pages take one of two paths:
 * - `page-server` (default): CRIU's dump sends them straight to a page server on the target,
 *   over a direct page channel or through the SSH tunnel (page-channel.ts), while it dumps: dump
 *   and transfer overlap, and the source writes no memory images at all;
 * - `stream`: CRIU writes every image on the source, then they all travel as the verified stream.
 * The restore is eager, or lazy: the workload resumes at once and a lazy-pages daemon on the
 * target fills its memory from the received images (the source copy is ended only after that).
 */
import { posix } from 'node:path';
import { readDumpStats } from '../../criu/run.js';
import { hostScript } from '../../host-scripts/index.js';
import { watchHandshake } from '../../criu/page-tls.js';
import { MigrateError } from '../../../transports/errors.js';
import { ANSWER_WITHIN_MS } from '../../transfer/page-relay.js';
import type { CriuService } from '../../criu/services.js';
import { isMigrateError } from '../../../transports/errors.js';
import { isPageImage, verifyPageImages } from '../../transfer/send-images.js';
import type { Dirs } from '../workload.js';
import { lazyPagesOf } from './window-stats.js';
import type { Freeze } from './freeze.js';
import type { MoveContext } from './context.js';
import { PagePath } from './page-path.js';
import { progressCounter, type ProgressCounter } from '../../progress.js';

export class EagerFreeze implements Freeze {
  readonly detail: string;
  readonly lazyRestore: boolean;
  private path?: PagePath;
  private progress?: ProgressCounter;
  private lazy?: CriuService;
  /** Why the dump was cut (direct: no handshake), if it was. */
  private cutWhy?: MigrateError;

  /** `direct`: the target's address the dump sends its pages to (a direct page channel); through SSH without it. */
  constructor(private readonly c: MoveContext, private readonly dirs: Dirs, private readonly parent: string | undefined, private readonly direct?: string) {
    this.detail = c.pages === 'page-server' ? `pages go straight to ${c.target.name}${direct ? ` (${direct}, direct)` : ''}` : 'images are written, then streamed';
    this.lazyRestore = c.restore === 'lazy';
  }

  async open(): Promise<void> {
    if (this.c.pages !== 'page-server') return;
    // The memory crosses during the dump: its progress against the workload's resident size.
    const progress = (this.progress = progressCounter(this.c.emit, 'memory', { host: this.c.target.name, total: this.c.residentBytes }));
    this.path = await PagePath.open(this.c.source, this.c.target, this.dirs, this.c.services, (n) => progress.add(n), this.direct);
  }

  /**
   * Direct: nothing of migrate's sees the dump's TLS hello reach the page server, so the server's
   * log is watched instead: without a completed handshake within ANSWER_WITHIN_MS of the dump's
   * start, something else holds the port (CRIU connects before it freezes anything, and waits for
   * good): the dump's connection is ended (so CRIU fails the handshake and exits) and the freeze
   * cut, whatever is left of the command to the source's guard.
   */
  async dump(stopping: () => void, _serving?: unknown, cut?: (why: MigrateError) => void): Promise<void> {
    let watch: ReturnType<typeof watchHandshake> | undefined;
    let stopped = false;
    const started = () => {
      stopping();
      if (!this.direct || !cut) return;
      watch = watchHandshake(this.c.target, posix.join(this.dirs.work, 'page-server.log'), ANSWER_WITHIN_MS);
      void watch.seen.then((seen) => {
        if (seen || stopped) return;
        // The dump holds a connection to whoever caught the port: ended, CRIU fails the handshake and exits.
        void this.c.source.exec(hostScript('cut-connections', 'to', this.direct!, String(this.path!.endpoint.port)), { allowFailure: true }).catch(() => {});
        cut(this.cutWhy = new MigrateError('TRANSFER_FAILED', `the dump's page channel to ${this.direct} did not complete its TLS handshake within ${ANSWER_WITHIN_MS / 1000} s`, {
          host: this.c.target.name,
          hint: 'something else may hold the page server\'s port on the target (a local user, a host-network container) or CRIU hangs; nothing was sent in clear. Use --page-channel ssh to keep the pages inside SSH',
        }));
      });
    };
    try {
      await this.c.workload.checkpoint(this.dirs, { pageServer: this.path?.endpoint, parent: this.parent, stopping: started });
    } finally {
      stopped = true;
      watch?.stop();
    }
  }

  /**
   * The page server's own failure (full disk, broken link) explains a failed dump best — unless
   * migrate itself ended the dump (the freeze's deadline, the user's stop, a handshake that never
   * came): then the page server only failed because of that.
   */
  async failedDump(e: unknown, frozen: boolean): Promise<unknown> {
    const ours = isMigrateError(e, 'FREEZE_TIMEOUT') || isMigrateError(e, 'INTERRUPTED') || (this.cutWhy !== undefined && e === this.cutWhy);
    const errors = (await this.path?.abort(frozen && !ours)) ?? [];
    return !frozen || ours ? e : errors.find((x) => isMigrateError(x, 'CRIU_FAILED')) ?? errors[0] ?? e;
  }

  async collect(): Promise<{ pageBytes: number; exclude?: (name: string) => boolean }> {
    const [dumpStats, pageBytes] = await Promise.all([readDumpStats(this.c.source, this.dirs.work).catch(() => null), this.path?.finish() ?? 0]);
    this.progress?.end();
    this.c.report.criu.dump = dumpStats;
    if (this.path) await verifyPageImages(this.c.target, this.dirs.images, dumpStats?.pagesWritten);
    return { pageBytes, exclude: this.path ? isPageImage : undefined };
  }

  serving(): undefined {
    return undefined;
  }

  async beforeRestore(): Promise<void> {
    if (this.lazyRestore) this.lazy = await this.c.services.lazyPages(this.c.target, { imagesDir: this.dirs.images, workDir: this.dirs.work });
  }

  /** Lazy restore: the source copy stays (stopped) until every page is in place on the target. */
  async window(restoredAt: number): Promise<void> {
    if (!this.lazy) return;
    await this.lazy.done;
    this.c.report.phases_ms.fill = Date.now() - restoredAt;
    this.c.report.lazy_pages = await lazyPagesOf(this.c.target, this.dirs.work);
  }

  async abort(): Promise<void> {
    this.lazy?.kill();
    await this.path?.abort(false);
  }
}
