/**
 * The prefetcher: on the target, between CRIU's lazy-pages daemon and the source's lazy page
 * server, for one post-copy window. It pulls every lazy page from the source as fast as the
 * link goes (page-cache.ts) and answers the daemon from what has arrived, so the link and the
 * daemon's placing of pages overlap instead of taking turns.
 *
 * Both of its connections are the run's TLS page channel (criu/page-tls.ts): it is the page
 * server to the daemon (the daemon's certificate required) and a client to the source's server.
 *
 *   node main.js --images DIR --cert FILE --key FILE [--answer-within-ms N]
 *
 * stdout, one line each: `listening PORT` once its port on 127.0.0.1 listens (the daemon's
 * --port); `upstream` once the source's page server completed the TLS handshake; `stats JSON`
 * after the daemon's session ended well (then exit 0).
 * stdin, one command a line: `connect HOST PORT`, where the source's page server is reached
 * (known after the dump; the pagemaps in DIR are read then); `start`, pull ahead from now on
 * (once the restore returned: while it runs, the CPU is the freeze's). Until then only what the
 * daemon asks for is pulled. stdin closing before a daemon connected ends it (exit 0).
 * Any failure: one line on stderr, exit 1 — the daemon sees its page server hang up.
 *
 * Only node: imports and its own modules: migrate writes these files into the run's directory
 * on the target (prefetch/prefetcher.ts) and runs them with the target's node.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { PageCache, type Fetched } from './page-cache.js';
import { ByteQueue, commandOf, decodeIov, encodeIov, HEADER_BYTES, PAGE_SIZE, pagesReply, PS_IOV_CLOSE, PS_IOV_FORCE_CLOSE, PS_IOV_GET, type PageIov } from './page-protocol.js';
import { readLazyRanges } from './pagemap.js';

interface Args { images: string; cert: string; key: string; answerWithinMs: number }

function parseArgs(argv: string[]): Args {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (v === undefined) throw new Error(`--${name} is required`);
    return v;
  };
  const i = argv.indexOf('--answer-within-ms');
  return { images: value('images'), cert: value('cert'), key: value('key'), answerWithinMs: i >= 0 ? Number(argv[i + 1]) : 10_000 };
}

/** The source's page server as a client sees it: requests go out, replies come back in order. */
export class Upstream {
  private readonly waiting: Array<{ ask: PageIov; resolve: (f: Fetched) => void; reject: (e: unknown) => void }> = [];
  private readonly bytes = new ByteQueue();
  private header: PageIov | undefined;
  private closing: { resolve: (status: number) => void; reject: (e: unknown) => void } | undefined;
  private failure: Error | undefined;

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
    sock.on('error', (e) => this.fail(new Error(`${what}: ${e.message}`)));
    sock.on('close', () => this.fail(new Error(`${what} hung up`)));
  }

  fetch(pid: number, vaddr: number, pages: number): Promise<Fetched> {
    if (this.failure) return Promise.reject(this.failure);
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

  end(): void {
    this.closing = undefined;
    this.sock.removeAllListeners('close');
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
    if (this.failure) return;
    this.failure = e;
    this.broken(e);
    for (const w of this.waiting.splice(0)) w.reject(e);
    this.closing?.reject(e);
    this.closing = undefined;
  }
}

/**
 * Writes `parts` and resolves once they went out as TLS records of their own, shared with
 * nothing written before or after. The daemon reads a reply's header, goes back to epoll and
 * waits for the socket to become readable for the pages (criu/page-xfer.c, page_server_read):
 * pages in the header's record would sit decrypted in GnuTLS's buffer with the socket empty, and
 * the daemon would wait for good. CRIU's own page server sends the header, then the pages, alike.
 */
function sent(sock: TLSSocket, parts: Buffer[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    parts.forEach((p, i) => sock.write(p, i === parts.length - 1 ? (e?: Error | null) => (e ? reject(e) : resolve()) : undefined));
  });
}

function main(args: Args): void {
  const cert = readFileSync(args.cert);
  const key = readFileSync(args.key);
  const tls = { cert, key, ca: [cert] };
  let sessionStarted = false;
  /** Set once the outcome is decided: whatever ends or breaks after that is no news. */
  let finished = false;
  const fail = (why: string): void => {
    if (finished) return;
    finished = true;
    process.stderr.write(`prefetcher: ${why}\n`, () => process.exit(1));
  };

  let onSource!: (u: { upstream: Upstream; cache: PageCache }) => void;
  const source = new Promise<{ upstream: Upstream; cache: PageCache }>((resolve) => (onSource = resolve));

  function connectTo(host: string, port: number): void {
    const cache0 = readLazyRanges(args.images);
    const what = `the source's page server at ${host}:${port}`;
    const sock = connect({ host, port, ...tls, checkServerIdentity: () => undefined });
    sock.setNoDelay(true);
    const timer = setTimeout(() => fail(`${what} did not complete the TLS handshake within ${args.answerWithinMs / 1000} s; something else may hold its port, or CRIU hangs`), args.answerWithinMs);
    sock.once('error', (e) => fail(`${what}: ${e.message}`));
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const upstream = new Upstream(sock, what, (e) => fail(e.message));
      const cache = new PageCache(cache0, (pid, vaddr, pages) => upstream.fetch(pid, vaddr, pages));
      process.stdout.write('upstream\n');
      onSource({ upstream, cache });
    });
  }

  async function answer(daemon: TLSSocket, iov: PageIov): Promise<void> {
    const { upstream, cache } = await source;
    const cmd = commandOf(iov.cmd);
    if (cmd === PS_IOV_GET) {
      const r = await cache.serve(iov.dstId, iov.vaddr, iov.nrPages);
      await sent(daemon, [encodeIov(pagesReply(iov.dstId, iov.vaddr, r.pages))]);
      await sent(daemon, r.data);
      return;
    }
    if (cmd === PS_IOV_CLOSE || cmd === PS_IOV_FORCE_CLOSE) {
      const status = await upstream.close(iov.cmd);
      if (finished) return;
      finished = true;
      upstream.end();
      const b = Buffer.alloc(4);
      b.writeInt32LE(status, 0);
      daemon.end(b);
      process.stdout.write(`stats ${JSON.stringify(cache.stats)}\n`, () => process.exit(status === 0 ? 0 : 1));
      return;
    }
    throw new Error(`the lazy-pages daemon sent command ${iov.cmd}, which a lazy page server does not take`);
  }

  const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (daemon) => {
    if (sessionStarted) {
      daemon.destroy(); // one daemon, one session
      return;
    }
    sessionStarted = true;
    server.close();
    daemon.setNoDelay(true);
    const asked = new ByteQueue();
    let chain = Promise.resolve();
    daemon.on('data', (b: Buffer) => {
      asked.push(b);
      for (let h = asked.takeJoined(HEADER_BYTES); h; h = asked.takeJoined(HEADER_BYTES)) {
        const iov = decodeIov(h);
        chain = chain.then(() => answer(daemon, iov)).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
      }
    });
    daemon.on('error', (e) => fail(`the lazy-pages daemon's connection: ${e.message}`));
    daemon.on('close', () => fail('the lazy-pages daemon hung up before it closed its session'));
  });
  server.on('tlsClientError', (e) => process.stderr.write(`prefetcher: a connection failed the TLS handshake (${e.message})\n`));
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
  });

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'start') {
      void source.then(({ cache }) => cache.start());
      return;
    }
    const m = /^connect (\S+) (\d+)$/.exec(line.trim());
    if (!m) return fail(`unknown command on stdin: ${line}`);
    try {
      connectTo(m[1]!, Number(m[2]));
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
    }
  });
  lines.on('close', () => {
    if (!sessionStarted) process.exit(0);
  });
}

if (process.env.MIGRATE_PREFETCHER === '1') {
  try {
    main(parseArgs(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`prefetcher: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
