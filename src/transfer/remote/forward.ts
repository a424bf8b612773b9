/**
 * The page forwarder: on the source of a post-copy move over a direct page channel, between the
 * source's lazy page server, listening on loopback, and the target's lazy-pages daemon (or its
 * prefetcher), which connects across the network. It carries bytes both ways and nothing else:
 * the session stays CRIU's TLS, end to end (it holds no key).
 *
 * Why: CRIU's lazy page server answers each request with a corked socket it pushes after every
 * reply (criu/page-xfer.c). Across the lab's link (veth, MTU 1500) its daemon filled 1 GiB in
 * 4.6 s, over loopback in 1.9 s (bench/results/daemon-pull.md). With the server writing to
 * loopback and this forwarder to the link, migrate's direct window for 1 GiB was 2.5–2.8 s
 * against 3.7–6.1 s without it (bench/results/postcopy-window.md; README, "The page forwarder").
 *
 *   node forward.js --listen ADDRESS --ports LOW-HIGH
 *
 * It listens on ADDRESS, on a free port between LOW and HIGH (CRIU's page channel ports, which
 * the firewall advice names), and says `listening PORT`. It takes one connection there; its bytes
 * go to 127.0.0.1:UPSTREAM once stdin has said `upstream UPSTREAM` (known after the dump).
 * stdout, one line each: `started`, `listening PORT`, then `done TO_TARGET FROM_TARGET` (bytes)
 * once both sides of its session closed, and exit 0. Any failure: one line on stderr, exit 1
 * (both sides are cut, as a broken link would). stdin closing before anyone connected ends it
 * (exit 0: the run no longer needs it).
 *
 * Only node: imports: migrate writes this file into the run's directory on the source
 * (transfer/page-forwarder.ts) and runs it with the source's node.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const LOOPBACK = '127.0.0.1';
/** How many random ports of the range it tries before it gives up. */
const PORT_TRIES = 8;

interface Args { listen: string; low: number; high: number }

function parseArgs(argv: string[]): Args {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (v === undefined) throw new Error(`--${name} is required`);
    return v;
  };
  const range = /^(\d+)-(\d+)$/.exec(value('ports'));
  if (!range || Number(range[1]) > Number(range[2])) throw new Error(`--ports wants LOW-HIGH, not ${value('ports')}`);
  return { listen: value('listen'), low: Number(range[1]), high: Number(range[2]) };
}

const say = (line: string, then?: () => void) => process.stdout.write(`${line}\n`, then);

function fail(why: string): void {
  process.stderr.write(`page forwarder: ${why}\n`, () => process.exit(1));
}

/** Listens on a free port of the range; rejects after PORT_TRIES ports in use. */
async function listen(server: Server, a: Args): Promise<number> {
  for (let i = 0; ; i++) {
    const port = a.low + Math.floor(Math.random() * (a.high - a.low + 1));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, a.listen, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
      return port;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i + 1 >= PORT_TRIES) throw new Error(`cannot listen on ${a.listen}:${port}: ${(e as Error).message}`);
    }
  }
}

/** Carries `from`'s bytes into `to`, pausing `from` while `to` is full; counts them. */
function carry(from: Socket, to: Socket, count: (n: number) => void): void {
  from.on('data', (b: Buffer) => {
    count(b.length);
    if (!to.write(b)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
}

function session(target: Socket, upstreamPort: Promise<number>): void {
  let toTarget = 0;
  let fromTarget = 0;
  let closed = 0;
  target.pause();
  target.setNoDelay(true);
  const what = `the target's side (${target.remoteAddress}:${target.remotePort})`;
  target.on('error', (e) => fail(`${what}: ${e.message}`));
  void upstreamPort.then((port) => {
    const source = connect({ host: LOOPBACK, port, allowHalfOpen: true, noDelay: true });
    source.on('error', (e) => fail(`the lazy page server at ${LOOPBACK}:${port}: ${e.message}`));
    const bothClosed = () => {
      if (++closed === 2) say(`done ${toTarget} ${fromTarget}`, () => process.exit(0));
    };
    source.on('close', bothClosed);
    target.on('close', bothClosed);
    carry(target, source, (n) => (fromTarget += n));
    carry(source, target, (n) => (toTarget += n));
    target.resume();
  });
}

async function main(a: Args): Promise<void> {
  let setUpstream!: (port: number) => void;
  const upstreamPort = new Promise<number>((resolve) => (setUpstream = resolve));
  let taken = false;
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (target) => {
    taken = true;
    server.close(); // one session, as CRIU's own page server takes one
    session(target, upstreamPort);
  });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const m = /^upstream (\d+)$/.exec(line.trim());
    if (m) setUpstream(Number(m[1]));
    else fail(`unknown command on stdin: ${line}`);
  });
  lines.on('close', () => {
    if (!taken) process.exit(0);
  });
  say('started');
  say(`listening ${await listen(server, a)}`);
}

if (process.env.MIGRATE_PAGE_FORWARDER === '1') {
  try {
    main(parseArgs(process.argv.slice(2))).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
}
