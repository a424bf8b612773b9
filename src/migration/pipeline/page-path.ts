/** The page path of an eager dump: the target's page server, reached through a relay on the controller. */
import type { Transport } from '../../../transports/transport.js';
import type { PageServer } from '../../criu/services.js';
import { relayEndpointOn, startPageRelay, type Endpoint, type PageRelay } from '../../transfer/page-relay.js';
import type { Dirs } from '../workload.js';
import type { CriuServices } from './context.js';

/** How long a failed dump's page server gets to exit on its own (and say why) before it is killed. */
const SETTLE_MS = 3000;

export class PagePath {
  private constructor(readonly endpoint: Endpoint, private readonly server: PageServer, private readonly relay: PageRelay,
    private readonly closers: Array<() => Promise<unknown>>) {}

  /** `onBytes`: the memory's bytes as they pass the relay (progress). */
  static async open(source: Transport, target: Transport, dst: Dirs, services: CriuServices, onBytes?: (n: number) => void): Promise<PagePath> {
    const server = await services.pageServer(target, { imagesDir: dst.images, workDir: dst.work, tls: dst.tls });
    const closers: Array<() => Promise<unknown>> = [];
    try {
      const relay = await startPageRelay(() => target.openStream(server.port), { onBytes, near: 'the dump', far: `${target.name}'s page server` });
      closers.push(relay.close);
      const reach = await relayEndpointOn(source, relay); // CRIU dumps on the source
      closers.push(reach.close);
      return new PagePath(reach.endpoint, server, relay, closers);
    } catch (e) {
      await Promise.allSettled(closers.map((c) => c()));
      server.kill();
      throw e;
    }
  }

  /** After a successful dump: waits until the page server has written everything; returns the bytes relayed. */
  async finish(): Promise<number> {
    try {
      const bytes = await this.relay.done;
      await this.server.done;
      return bytes;
    } finally {
      await this.close();
    }
  }

  /** After a failure: lets the page server settle (when `settle`), stops it, returns the errors seen. */
  async abort(settle: boolean): Promise<unknown[]> {
    const settled = Promise.allSettled([this.relay.done, this.server.done]);
    await Promise.race([settled, new Promise<void>((r) => setTimeout(r, settle ? SETTLE_MS : 0).unref())]);
    this.server.kill();
    await this.close();
    return (await settled).flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  }

  private async close(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((c) => c()));
  }
}
