/**
 * Carries CRIU's page stream from a dump to a page server on another host. `criu dump
 * --page-server` connects to a port on its host's loopback that leads to the relay
 * (relayEndpointOn: a reverse forward whose SSH channel is handed straight in, or a listener when
 * the host is the controller's own machine); every byte goes on into a stream to the
 * target's page server (an SSH channel, Transport.openStream) and the server's few replies
 * (PS_IOV_OPEN2's has-parent bit, PS_IOV_CLOSE's status; CRIU's page-xfer.c) come back. A
 * lazy-pages daemon's session runs the other way round: small requests in, pages out.
 *
 * Why not a plain port forward: a TCP socket delivers at most 64 KiB per read, and every write
 * into an SSH channel has a fixed cost. What arrives within one turn of the event loop is
 * joined into one write (up to COALESCE bytes); measured 110 → 140 MB/s for 512 MiB in the lab.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';

export interface Endpoint { host: string; port: number }

export interface PageRelay {
  /** Settles with the bytes carried (both ways) once the session ended; rejects if a side broke it. */
  done: Promise<number>;
  /**
   * Takes the connection of whoever reached the relay (relayEndpointOn: a reverse forward's
   * channel, or a socket on the controller's loopback) as the session's near side. One session:
   * a later connection is cut.
   */
  accept(stream: Duplex): void;
  /** Ends the wait: when nobody connected, `done` rejects. */
  close(): Promise<void>;
}

const COALESCE = 1 << 20;

/**
 * How long the far side may stay silent after the near side spoke first. Every page channel is
 * TLS (criu/page-tls.ts): the connecting side sends its hello and a real CRIU answers within
 * milliseconds. Silence means something else holds the port (a squatter reading the hello) or
 * the server hangs; CRIU itself has no handshake timeout and would wait until the freeze deadline.
 */
export const ANSWER_WITHIN_MS = 10_000;

export interface RelayOptions {
  /** Progress: bytes as they pass, both ways. */
  onBytes?: (n: number) => void;
  /** Name the two sides in errors: `near` connects to the relay, `far` is what open() reaches. */
  near?: string;
  far?: string;
  answerWithinMs?: number;
}

/**
 * Where processes on host `h` reach a relay on the controller: a port on `h`'s loopback whose
 * connections go straight into the relay (Transport.reverseStream: a reverse forward's SSH
 * channel, with no socket hop on the controller, which would cost CPU per byte; a loopback
 * listener when `h` is the controller's machine). The returned close() removes it.
 */
export async function relayEndpointOn(h: Transport, relay: PageRelay): Promise<{ endpoint: Endpoint; close(): Promise<void> }> {
  const back = await h.reverseStream(0, (s) => relay.accept(s));
  return { endpoint: { host: back.remoteHost, port: back.remotePort }, close: () => back.close() };
}

/** A relay whose first accepted connection is carried into `open()`'s stream, both ways. */
export function createPageRelay(open: () => Promise<Duplex>, opts: RelayOptions = {}): PageRelay {
  const onBytes = opts.onBytes ?? (() => {});
  const nearName = opts.near ?? 'the dump';
  const farName = opts.far ?? 'the target page server';
  const answerWithin = opts.answerWithinMs ?? ANSWER_WITHIN_MS;
  let bytes = 0;
  let settle!: { resolve: (n: number) => void; reject: (e: unknown) => void };
  const done = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {});

  let started = false;
  let closed = false;
  const accept = (client: Duplex) => {
    if (started || closed) {
      client.destroy(); // one dump, one session
      return;
    }
    started = true;
    client.pause();
    void session(client).then(() => settle.resolve(bytes), settle.reject);
  };

  async function session(client: Duplex): Promise<void> {
    let far: Duplex | undefined;
    try {
      far = await open();
      const f = far;
      let fail!: (e: MigrateError) => void;
      const broken = new Promise<never>((_, reject) => {
        fail = reject;
        for (const [s, what] of [[client, nearName], [f, farName]] as const) {
          s.on('error', (e: Error) => reject(new MigrateError('TRANSFER_FAILED', `page stream broken: ${what} (${e.message})`, { host: 'local', cause: e })));
          s.on('close', () => reject(new MigrateError('TRANSFER_FAILED', `page stream broken: ${what} closed early`, { host: 'local' })));
        }
      });
      broken.catch(() => {});
      let answered = false;
      let silence: NodeJS.Timeout | undefined;
      const hearFar = () => {
        answered = true;
        clearTimeout(silence);
      };
      const awaitAnswer = () => {
        if (answered || silence) return;
        silence = setTimeout(() => fail(new MigrateError('TRANSFER_FAILED',
          `page stream broken: ${farName} did not answer the TLS handshake within ${answerWithin / 1000} s; something else may hold its loopback port (another local user or a host-network container) or CRIU hangs — nothing was sent in clear`,
          { host: 'local' })), answerWithin);
        silence.unref();
      };
      broken.catch(() => clearTimeout(silence));
      f.on('data', (b: Buffer) => {
        hearFar();
        bytes += b.length; // replies; with a lazy-pages client, the pages themselves
        onBytes(b.length);
        if (!client.write(b)) {
          f.pause();
          client.once('drain', () => f.resume());
        }
      });

      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        if (pendingBytes === 0) return;
        const b = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        if (!f.write(b)) {
          client.pause();
          f.once('drain', () => client.resume());
        }
      };
      client.on('data', (b: Buffer) => {
        awaitAnswer();
        bytes += b.length; // with a dump client, the pages
        onBytes(b.length);
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
      await Promise.race([ended, broken]);
      flush();
      // The server closes once the dump has closed its side (page_server_serve waits for it).
      const closed = once(f, 'close');
      f.end();
      await Promise.race([closed, broken.catch(() => closed)]);
      client.end();
      clearTimeout(silence);
    } catch (e) {
      client.destroy();
      far?.destroy();
      throw e instanceof MigrateError ? e : new MigrateError('TRANSFER_FAILED', 'cannot reach the target page server', { host: 'local', cause: e });
    }
  }

  return {
    done,
    accept,
    close: async () => {
      closed = true;
      if (!started) settle.reject(new MigrateError('TRANSFER_FAILED', 'no dump connected to the page relay', { host: 'local' }));
    },
  };
}
