/**
 * The page path of an eager dump: the target's page server, reached straight over the network
 * (a direct page channel: page-channel.ts) or through a relay on the controller and SSH.
 */
import type { Transport } from '../../../transports/transport.js';
import type { PageServer } from '../../criu/services.js';
import { hostScript } from '../../host-scripts/index.js';
import { pollGrowth } from '../../progress.js';
import { relayEndpointOn, createPageRelay, type Endpoint } from '../../transfer/page-relay.js';
import type { Dirs } from '../workload.js';
import type { CriuServices } from './context.js';

/** How long a failed dump's page server gets to exit on its own (and say why) before it is killed. */
const SETTLE_MS = 3000;

/** The pages-*.img bytes a page server has written so far. */
async function pageImageBytes(t: Transport, imagesDir: string): Promise<number> {
  const r = await t.exec(hostScript('count-page-images', imagesDir));
  return Number(r.stdout.split('\n')[0]);
}

export class PagePath {
  private constructor(readonly endpoint: Endpoint, private readonly server: PageServer,
    /** Settles with the bytes the relay carried, or (direct) the bytes the server wrote as last seen. */
    private readonly carried: () => Promise<number>,
    private readonly closers: Array<() => Promise<unknown>>) {}

  /**
   * `onBytes`: the memory's bytes as they pass the relay, or (direct) as the page server writes
   * them (polled). `direct`: the target's address the dump dials; without it, the relay.
   */
  static async open(source: Transport, target: Transport, dst: Dirs, services: CriuServices, onBytes?: (n: number) => void, direct?: string): Promise<PagePath> {
    const dirs = { imagesDir: dst.images, workDir: dst.work, tls: dst.tls };
    if (direct) {
      const server = await services.pageServer(target, dirs, direct);
      const poll = pollGrowth(() => pageImageBytes(target, dst.images), onBytes ?? (() => {}));
      return new PagePath({ host: direct, port: server.port }, server, async () => { await server.done; return poll.stop(true); }, [() => poll.stop()]);
    }
    const server = await services.pageServer(target, dirs);
    const closers: Array<() => Promise<unknown>> = [];
    try {
      const relay = createPageRelay(() => target.openStream(server.port), { onBytes, near: 'the dump', far: `${target.name}'s page server` });
      closers.push(relay.close);
      const reach = await relayEndpointOn(source, relay); // CRIU dumps on the source
      closers.push(reach.close);
      return new PagePath(reach.endpoint, server, () => relay.done, closers);
    } catch (e) {
      await Promise.allSettled(closers.map((c) => c()));
      server.kill();
      throw e;
    }
  }

  /** After a successful dump: waits until the page server has written everything; returns the bytes it got. */
  async finish(): Promise<number> {
    try {
      const bytes = await this.carried();
      await this.server.done;
      return bytes;
    } finally {
      await this.close();
    }
  }

  /** After a failure: lets the page server settle (when `settle`), stops it, returns the errors seen. */
  async abort(settle: boolean): Promise<unknown[]> {
    const settled = Promise.allSettled([this.carried(), this.server.done]);
    await Promise.race([settled, new Promise<void>((r) => setTimeout(r, settle ? SETTLE_MS : 0).unref())]);
    this.server.kill();
    await this.close();
    return (await settled).flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  }

  private async close(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((c) => c()));
  }
}
