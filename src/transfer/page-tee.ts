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
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { MigrateError } from '../errors.js';

export interface Endpoint { host: string; port: number }

export interface PageTee {
  /** Where CRIU's dump should send its pages. */
  host: string;
  port: number;
  /** Bytes received from the dump so far. */
  bytes(): number;
  /** Settles when a session ended; rejects if either side broke it. */
  done: Promise<number>;
  close(): Promise<void>;
}

async function open(e: Endpoint, what: string): Promise<Socket> {
  const s = connect(e.port, e.host);
  s.setNoDelay(true);
  try {
    await once(s, 'connect');
  } catch (err) {
    throw new MigrateError('TRANSFER_FAILED', `cannot reach the ${what} page server at ${e.host}:${e.port}`, { host: 'local', cause: err });
  }
  return s;
}

export async function startPageTee(primary: Endpoint, copy: Endpoint): Promise<PageTee> {
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
    const [main, mirror] = await Promise.all([open(primary, 'target'), open(copy, 'local copy')]);
    const broken = new Promise<never>((_, reject) => {
      for (const [s, what] of [[client, 'the dump'], [main, 'the target page server'], [mirror, 'the local copy page server']] as const) {
        s.on('error', (e) => reject(new MigrateError('TRANSFER_FAILED', `page stream broken: ${what} (${e.message})`, { host: 'local', cause: e })));
      }
    });
    broken.catch(() => {});
    main.pipe(client); // the primary's replies are what the dump hears
    mirror.resume(); // the copy's identical replies are dropped
    let waiting = 0;
    const drained = () => {
      if (--waiting === 0) client.resume();
    };
    client.on('data', (b: Buffer) => {
      bytes += b.length;
      for (const s of [main, mirror]) {
        if (!s.write(b)) {
          if (waiting++ === 0) client.pause();
          s.once('drain', drained);
        }
      }
    });
    client.resume();
    await Promise.race([once(client, 'end'), broken]);
    main.end();
    mirror.end();
    await Promise.race([Promise.all([once(main, 'close'), once(mirror, 'close')]), broken]);
    client.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new MigrateError('TRANSFER_FAILED', 'cannot listen for the page stream', { host: 'local', cause: e })));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  return {
    host: '127.0.0.1',
    port: typeof addr === 'object' && addr ? addr.port : 0,
    bytes: () => bytes,
    done,
    close: async () => {
      server.close();
    },
  };
}
