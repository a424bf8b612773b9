/**
 * Sends CRIU's page stream to two page servers at once. `criu dump --page-server` connects here;
 * every byte it sends goes to the primary server (the target's, through the SSH tunnel) and to
 * a copy server (on the source). The dump only completes once the primary has acknowledged
 * everything, and the copy keeps a complete local checkpoint, so a failure after the freeze can
 * still restore the workload on the source.
 *
 * The protocol (CRIU's page-xfer.c) is requests from the client with a few small replies
 * (PS_IOV_OPEN2's has-parent bit, PS_IOV_CLOSE's status). Both servers get identical requests
 * and answer identically; the client hears the primary, the copy's replies are read and dropped.
 * The client is paused whenever either server is slow (backpressure on both).
 */
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { MigrateError } from '../errors.js';

export interface Endpoint { host: string; port: number }

/** Opens a byte stream to a page server (Transport.connect). */
export type Opener = () => Promise<Duplex>;

export interface PageTee {
  /** Where CRIU's dump should send its pages (on the controller). */
  host: string;
  port: number;
  /** Settles with the bytes the dump sent once the session ended; rejects if a side broke it. */
  done: Promise<number>;
  close(): Promise<void>;
}

/**
 * Writes into an SSH channel cost per call, and a TCP socket delivers at most 64 KiB per read:
 * what arrives within one turn of the event loop is joined into one write (up to this size).
 */
const COALESCE = 1 << 20;

export async function startPageTee(openPrimary: Opener, openCopy: Opener): Promise<PageTee> {
  let bytes = 0;
  let settle!: { resolve: (n: number) => void; reject: (e: unknown) => void };
  const done = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {});

  const server = createServer({ noDelay: true }, (client) => {
    server.close(); // one dump, one session
    client.pause();
    void session(client).then(() => settle.resolve(bytes), (e) => {
      client.destroy();
      settle.reject(e);
    });
  });

  async function session(client: Socket): Promise<void> {
    const [main, mirror] = await Promise.all([openPrimary(), openCopy()]);
    const broken = new Promise<never>((_, reject) => {
      for (const [s, what] of [[client, 'the dump'], [main, 'the target page server'], [mirror, 'the local copy page server']] as const) {
        s.on('error', (e: Error) => reject(new MigrateError('TRANSFER_FAILED', `page stream broken: ${what} (${e.message})`, { host: 'local', cause: e })));
        s.on('close', () => reject(new MigrateError('TRANSFER_FAILED', `page stream broken: ${what} closed early`, { host: 'local' })));
      }
    });
    broken.catch(() => {});
    main.on('data', (b: Buffer) => client.write(b)); // the primary's replies are what the dump hears
    mirror.resume(); // the copy's identical replies are dropped

    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let waiting = 0;
    let scheduled = false;
    const drained = () => {
      if (--waiting === 0) client.resume();
    };
    const flush = () => {
      scheduled = false;
      if (pendingBytes === 0) return;
      const b = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      for (const s of [main, mirror]) {
        if (!s.write(b)) {
          if (waiting++ === 0) client.pause();
          s.once('drain', drained);
        }
      }
    };
    client.on('data', (b: Buffer) => {
      bytes += b.length;
      pending.push(b);
      pendingBytes += b.length;
      if (pendingBytes >= COALESCE) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
    const ended = once(client, 'end');
    client.resume();
    try {
      await Promise.race([ended, broken]);
      flush();
      // Both servers close once the dump has closed its side (page_server_serve waits for it).
      const closed = Promise.all([once(main, 'close'), once(mirror, 'close')]);
      main.end();
      mirror.end();
      await Promise.race([closed, broken.catch(() => closed)]);
      client.end();
    } catch (e) {
      for (const s of [client, main, mirror]) s.destroy();
      throw e;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new MigrateError('TRANSFER_FAILED', 'cannot listen for the page stream', { host: 'local', cause: e })));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  return {
    host: '127.0.0.1',
    port: typeof addr === 'object' && addr ? addr.port : 0,
    done,
    close: async () => {
      server.close();
    },
  };
}
