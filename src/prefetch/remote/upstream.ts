/**
 * The prefetcher's side of its session with the source's lazy page server (page-protocol.ts):
 * requests go out as they come, replies come back in the same order; the session ends with the
 * daemon's close and the source's status.
 *
 * Only node: imports and its own modules: it runs on the target inside the prefetcher.
 */
import type { TLSSocket } from 'node:tls';
import type { Fetched } from './page-cache.js';
import { ByteQueue, decodeIov, encodeIov, HEADER_BYTES, PAGE_SIZE, PS_IOV_GET, type PageIov } from './page-protocol.js';

/** The source's page server as a client sees it: requests go out, replies come back in order. */
export class Upstream {
  private readonly waiting: Array<{ ask: PageIov; resolve: (f: Fetched) => void; reject: (e: unknown) => void }> = [];
  private readonly bytes = new ByteQueue();
  private header: PageIov | undefined;
  private closing: { resolve: (status: number) => void; reject: (e: unknown) => void } | undefined;
  private failure: Error | undefined;
  /** The source answered the close: its hanging up (TLS close_notify, then EOF) is the session's end. */
  private over = false;

  /** `broken`: the session with the source is over before its end (the daemon must hear of it now, not at its next request). */
  constructor(private readonly sock: TLSSocket, what: string, private readonly broken: (e: Error) => void) {
    sock.on('data', (b: Buffer) => {
      this.bytes.push(b);
      try {
        this.read();
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
      }
    });
    // A reset is the source going away too (it closed with our requests unread): say so alike.
    sock.on('error', (e: NodeJS.ErrnoException) => this.fail(new Error(e.code === 'ECONNRESET' || e.code === 'EPIPE' ? `${what} hung up (${e.message})` : `${what}: ${e.message}`)));
    sock.on('close', () => this.fail(new Error(`${what} hung up`)));
  }

  fetch(pid: number, vaddr: number, pages: number): Promise<Fetched> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing || this.over) return Promise.reject(new Error('the session with the source is closing: nothing more may be asked'));
    const ask: PageIov = { cmd: PS_IOV_GET, nrPages: pages, vaddr, dstId: pid };
    return new Promise<Fetched>((resolve, reject) => {
      this.waiting.push({ ask, resolve, reject });
      this.sock.write(encodeIov(ask));
    });
  }

  /** Ends the session as the daemon asked (`cmd`): the source answers its status after every reply. */
  close(cmd: number): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<number>((resolve, reject) => {
      this.closing = { resolve, reject };
      this.sock.write(encodeIov({ cmd, nrPages: 0, vaddr: 0, dstId: 0 }));
    });
  }

  /** After the close: whatever the socket does from now on is no failure. */
  end(): void {
    this.over = true;
    this.sock.end();
  }

  private read(): void {
    for (;;) {
      const head = this.waiting[0];
      if (!head) {
        if (!this.closing) {
          if (this.bytes.length > 0) throw new Error('the source\'s page server sent bytes nobody asked for');
          return;
        }
        const status = this.bytes.takeJoined(4);
        if (!status) return;
        const c = this.closing;
        this.closing = undefined;
        this.over = true;
        c.resolve(status.readInt32LE(0));
        return;
      }
      if (!this.header) {
        const h = this.bytes.takeJoined(HEADER_BYTES);
        if (!h) return;
        this.header = decodeIov(h);
        if (this.header.vaddr !== head.ask.vaddr || this.header.dstId !== head.ask.dstId || this.header.nrPages > head.ask.nrPages) {
          throw new Error(`the source's page server answered ${this.header.nrPages} pages at ${this.header.vaddr.toString(16)} of ${this.header.dstId} to a request for ${head.ask.nrPages} at ${head.ask.vaddr.toString(16)} of ${head.ask.dstId}`);
        }
      }
      const pages = this.header.nrPages;
      const data = this.bytes.takeJoined(pages * PAGE_SIZE);
      if (!data) return;
      this.header = undefined;
      this.waiting.shift();
      head.resolve({ pages, data });
    }
  }

  private fail(e: Error): void {
    if (this.failure || this.over) return;
    this.failure = e;
    this.broken(e);
    for (const w of this.waiting.splice(0)) w.reject(e);
    this.closing?.reject(e);
    this.closing = undefined;
  }
}
