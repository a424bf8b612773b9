/**
 * The prefetcher: on the target, between CRIU's lazy-pages daemon and the source's lazy page
 * server, for one post-copy window. It pulls every lazy page from the source as fast as the
 * link goes (page-cache.ts) and answers the daemon from what has arrived, so the link and the
 * daemon's placing of pages overlap instead of taking turns.
 *
 * It starts the daemon itself (`criu lazy-pages --page-server --ps-socket 3`, the command
 * migrate gives) with one end of a socket pair as its page-server connection: no port, no TLS
 * on the target's side (nothing else can reach it), the pages decrypted once. Its connection to
 * the source is the run's TLS page channel (criu/page-tls.ts), as the daemon's own would be.
 *
 *   node main.js --images DIR --cert FILE --key FILE [--answer-within-ms N]
 *
 * stdin, one command a line:
 *   connect HOST PORT   where the source's page server is reached (known after the dump); the
 *                       pagemaps in DIR are read then, and the TLS session opened
 *   daemon JSON         start the daemon: a JSON array, its argv (fd 3 is its page server)
 *   start               pull ahead from now on (once the restore returned: while it runs, the
 *                       CPU is the freeze's); until then only what the daemon asks for is pulled
 * stdout, one line each: `started`; `upstream` once the source completed the TLS handshake;
 * `daemon-ready` once the daemon says it is (CRIU's --status-fd byte on its stdout);
 * `daemon-exit CODE|SIGNAL`; after a session the daemon closed and a daemon that exited 0,
 * `stats JSON`, then exit 0. Any failure: one line on stderr, exit 1 (the daemon, if still
 * there, sees its page server hang up). stdin closing before a daemon was started ends it (exit 0).
 *
 * Only node: imports and its own modules: migrate writes these files into the run's directory
 * on the target (prefetch/prefetcher.ts) and runs them with the target's node.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { connect } from 'node:tls';
import { PageCache } from './page-cache.js';
import { ByteQueue, commandOf, decodeIov, encodeIov, HEADER_BYTES, pagesReply, PS_IOV_CLOSE, PS_IOV_FORCE_CLOSE, PS_IOV_GET, type PageIov } from './page-protocol.js';
import { nodeVersionProblem } from './node-version.js';
import { readLazyRanges } from './pagemap.js';
import { Upstream } from './upstream.js';

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

const say = (line: string, then?: () => void) => process.stdout.write(`${line}\n`, then);

/** Writes `parts` and resolves once they are handed to the socket (bounding what waits in memory). */
function sent(sock: Socket, parts: Buffer[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    parts.forEach((p, i) => sock.write(p, i === parts.length - 1 ? (e?: Error | null) => (e ? reject(e) : resolve()) : undefined));
  });
}

function main(args: Args): void {
  const cert = readFileSync(args.cert);
  const key = readFileSync(args.key);
  let daemonStarted = false;
  /** The daemon closed its session and the source answered: its exit decides. */
  let closed = false;
  /** Set once the outcome is decided: whatever ends or breaks after that is no news. */
  let finished = false;
  const fail = (why: string): void => {
    if (finished) return;
    finished = true;
    process.stderr.write(`prefetcher: ${why}\n`, () => process.exit(1));
  };
  const failed = (e: unknown) => fail(e instanceof Error ? e.message : String(e));

  let onSource!: (u: { upstream: Upstream; cache: PageCache }) => void;
  const source = new Promise<{ upstream: Upstream; cache: PageCache }>((resolve) => (onSource = resolve));

  function connectTo(host: string, port: number): void {
    const ranges = readLazyRanges(args.images);
    const what = `the source's page server at ${host}:${port}`;
    const sock = connect({ host, port, cert, key, ca: [cert], checkServerIdentity: () => undefined });
    sock.setNoDelay(true);
    const timer = setTimeout(() => fail(`${what} did not complete the TLS handshake within ${args.answerWithinMs / 1000} s; something else may hold its port, or CRIU hangs`), args.answerWithinMs);
    const early = (e: Error) => fail(`${what}: ${e.message}`);
    sock.once('error', early);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      sock.removeListener('error', early); // the session's own from now on
      const upstream = new Upstream(sock, what, (e) => fail(e.message));
      const cache = new PageCache(ranges, (pid, vaddr, pages) => upstream.fetch(pid, vaddr, pages));
      say('upstream');
      onSource({ upstream, cache });
    });
  }

  let cache: PageCache | undefined;
  async function answer(daemon: Socket, iov: PageIov): Promise<void> {
    const s = await source;
    cache = s.cache;
    const cmd = commandOf(iov.cmd);
    if (cmd === PS_IOV_GET) {
      const r = await s.cache.serve(iov.dstId, iov.vaddr, iov.nrPages);
      await sent(daemon, [encodeIov(pagesReply(iov.dstId, iov.vaddr, r.pages)), ...r.data]);
      return;
    }
    if (cmd === PS_IOV_CLOSE || cmd === PS_IOV_FORCE_CLOSE) {
      s.cache.stop(); // nothing may follow the close on the way to the source
      const status = await s.upstream.close(iov.cmd);
      s.upstream.end();
      if (status !== 0) throw new Error(`the source's page server closed the session with status ${status}`);
      closed = true;
      const b = Buffer.alloc(4);
      daemon.end(b);
      return;
    }
    throw new Error(`the lazy-pages daemon sent command ${iov.cmd}, which a lazy page server does not take`);
  }

  function startDaemon(argv: string[]): void {
    if (daemonStarted) throw new Error('one daemon per prefetcher');
    daemonStarted = true;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const daemon = child.stdio[3] as Socket;
    let said = '';
    child.stderr!.on('data', (b: Buffer) => (said = (said + b.toString('utf8')).slice(-2000)));
    child.stdout!.once('data', () => say('daemon-ready'));
    child.stdout!.resume();
    child.on('error', (e) => fail(`cannot start the lazy-pages daemon (${argv[0]}): ${e.message}`));
    child.on('exit', (code, signal) => {
      say(`daemon-exit ${code ?? signal}`);
      if (closed && code === 0) {
        finished = true;
        say(`stats ${JSON.stringify(cache?.stats)}`, () => process.exit(0));
      } else {
        fail(`the lazy-pages daemon exited with ${code ?? signal}${closed ? '' : ' before it had every page'}${said.trim() ? `: ${said.trim()}` : ''}`);
      }
    });
    const asked = new ByteQueue();
    let chain = Promise.resolve();
    daemon.on('data', (b: Buffer) => {
      asked.push(b);
      for (let h = asked.takeJoined(HEADER_BYTES); h; h = asked.takeJoined(HEADER_BYTES)) {
        const iov = decodeIov(h);
        chain = chain.then(() => answer(daemon, iov)).catch(failed);
      }
    });
    daemon.on('error', () => {}); // its exit says what happened
  }

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    try {
      const [word, ...rest] = line.trim().split(' ');
      if (word === 'start') void source.then((s) => s.cache.start());
      else if (word === 'connect' && rest.length === 2 && /^\d+$/.test(rest[1]!)) connectTo(rest[0]!, Number(rest[1]));
      else if (word === 'daemon') startDaemon(JSON.parse(rest.join(' ')) as string[]);
      else fail(`unknown command on stdin: ${line}`);
    } catch (e) {
      failed(e);
    }
  });
  lines.on('close', () => {
    if (!daemonStarted) process.exit(0);
  });
  say('started');
}

if (process.env.MIGRATE_PREFETCHER === '1') {
  try {
    const tooOld = nodeVersionProblem(process.versions.node);
    if (tooOld) throw new Error(tooOld);
    main(parseArgs(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`prefetcher: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
