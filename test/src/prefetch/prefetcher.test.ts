/**
 * The prefetcher as migrate runs it (local transport: node and the built program on this
 * machine), between a made-up source page server and a made-up lazy-pages daemon, both TLS with
 * a fresh run credential. The lab tests run it between real CRIUs.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { once } from 'node:events';
import { LocalTransport } from '../../../transports/local.js';
import { MigrateError } from '../../../transports/errors.js';
import type { RunningCommand, Transport } from '../../../transports/transport.js';
import { newPageCredential, type PageCredential } from '../../../src/criu/page-tls.js';
import { startPrefetcher, type Prefetcher } from '../../../src/prefetch/prefetcher.js';
import { ByteQueue, decodeIov, encodeIov, HEADER_BYTES, PAGE_SIZE, pagesReply, PS_IOV_CLOSE, PS_IOV_GET } from '../../../src/prefetch/remote/page-protocol.js';
import { PE_LAZY } from '../../../src/prefetch/remote/pagemap.js';
import { pagemapImage, pagesAt, PE_PRESENT } from '../../helpers/pagemap-image.js';

const P = PAGE_SIZE;
const BASE = 0x7f00_0000_0000;
const PAGES = 600;

let cred: PageCredential;
test.before(async () => {
  cred = await newPageCredential();
});

function runDir(t: import('ava').ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'prefetch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const images = join(dir, 'images');
  const work = join(dir, 'work');
  mkdirSync(images);
  mkdirSync(work);
  writeFileSync(join(images, 'pagemap-1.img'), pagemapImage([{ vaddr: 0x400000, pages: 3, flags: PE_PRESENT }, { vaddr: BASE, pages: PAGES, flags: PE_LAZY | PE_PRESENT }]));
  const tls = { cert: join(dir, 'pages.crt'), key: join(dir, 'pages.key') };
  writeFileSync(tls.cert, cred.cert);
  writeFileSync(tls.key, cred.key);
  return { workDir: work, imagesDir: images, tls };
}

/** A lazy page server like CRIU's: answers GETs in order, header and pages; CLOSE with a status. */
async function fakeSource(o: { hangUpAfter?: number } = {}) {
  const asked: Array<{ vaddr: number; pages: number }> = [];
  let closed = false;
  let late = 0;
  const server = createServer({ key: cred.key, cert: cred.cert, ca: [cred.cert], requestCert: true, rejectUnauthorized: true }, (s) => {
    const q = new ByteQueue();
    s.on('data', (b: Buffer) => {
      q.push(b);
      for (let h = q.takeJoined(HEADER_BYTES); h; h = q.takeJoined(HEADER_BYTES)) {
        const iov = decodeIov(h);
        if (closed) {
          late++; // CRIU's page server reads nothing after the close: it would never answer
          continue;
        }
        if (iov.cmd === PS_IOV_CLOSE) {
          closed = true;
          s.end(Buffer.alloc(4)); // the status, then TLS close_notify and FIN at once, as CRIU's tls_terminate_session
          continue;
        }
        asked.push({ vaddr: iov.vaddr, pages: iov.nrPages });
        if (o.hangUpAfter !== undefined && asked.length > o.hangUpAfter) {
          s.destroy();
          return;
        }
        s.write(encodeIov(pagesReply(iov.dstId, iov.vaddr, iov.nrPages)));
        s.write(pagesAt(iov.dstId, iov.vaddr, iov.nrPages));
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  return { asked, late: () => late, port: typeof addr === 'object' && addr ? addr.port : 0, close: () => server.close() };
}

/**
 * A lazy-pages daemon as the prefetcher starts it: its page server on fd 3, ready once it wrote
 * a byte on stdout; one request at a time, as CRIU's keeps one in flight per process. It asks
 * for one page first and waits 300 ms (the restore), then for the rest 64 at a time, checks
 * every page, closes the session and exits 0 — or with 3 after the first page (`fail`).
 */
const DAEMON = `
const net = require('net');
const [base, pages, P, fail] = process.argv.slice(1).map(Number);
const s = new net.Socket({ fd: 3, readable: true, writable: true });
s.on('close', () => process.exit(6));
process.stdout.write('\\0');
let buf = Buffer.alloc(0), wake;
s.on('data', (b) => { buf = Buffer.concat([buf, b]); if (wake) wake(); });
const read = async (n) => { while (buf.length < n) await new Promise((r) => (wake = r)); const out = buf.subarray(0, n); buf = buf.subarray(n); return out; };
const iov = (cmd, nr, vaddr, dst) => { const b = Buffer.alloc(32); b.writeUInt32LE(cmd, 0); b.writeBigUInt64LE(BigInt(nr), 8); b.writeBigUInt64LE(BigInt(vaddr), 16); b.writeBigUInt64LE(BigInt(dst), 24); return b; };
(async () => {
  let at = base, got = 0, first = true;
  while (got < pages) {
    s.write(iov(${PS_IOV_GET}, first ? 1 : Math.min(64, pages - got), at, 1));
    const h = await read(32);
    const nr = Number(h.readBigUInt64LE(8));
    if (Number(h.readBigUInt64LE(16)) !== at || nr < 1) process.exit(4);
    const data = await read(nr * P);
    for (let i = 0; i < nr; i++) if (data.readUInt32LE(i * P) !== 1 || data.readDoubleLE(i * P + 8) !== at + i * P) process.exit(5);
    got += nr; at += nr * P;
    if (first && fail) process.exit(3);
    await new Promise((r) => setTimeout(r, first ? 300 : 2));
    first = false;
  }
  s.removeAllListeners('close');
  s.write(iov(${PS_IOV_CLOSE}, 0, 0, 0));
  process.exit((await read(4)).readInt32LE(0) === 0 ? 0 : 7);
})();
`;
const daemonArgv = (fail = false) => ['node', '-e', DAEMON, String(BASE), String(PAGES), String(P), fail ? '1' : '0'];

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() > end) throw new Error('timed out');
}

async function started(t: import('ava').ExecutionContext, answerWithinMs = 10_000): Promise<Prefetcher> {
  const p = await startPrefetcher(new LocalTransport(), { ...runDir(t), answerWithinMs });
  if ('unavailable' in p) throw new Error(p.unavailable);
  t.teardown(() => p.kill());
  return p;
}

test('the daemon it starts gets every page, most of them pulled before it asked; then it exits 0 with its figures', async (t) => {
  const src = await fakeSource();
  t.teardown(src.close);
  const p = await started(t);
  p.connect({ host: '127.0.0.1', port: src.port });
  await p.upstream;
  await p.startDaemon(daemonArgv());
  await until(() => src.asked.length > 0);
  t.deepEqual(src.asked, [{ vaddr: BASE, pages: 1 }], 'during the restore: the page asked for, alone');
  p.start();
  t.is(await p.daemonExit, 0, 'the daemon checked every page and closed its session');
  const stats = await p.done;
  t.is(stats.pages_served, PAGES);
  t.true(stats.pages_ready > PAGES / 2, JSON.stringify(stats));
  t.is(stats.pages_forwarded, 1, 'the one page asked for during the restore, before start()');
  t.true(src.asked.every((a) => a.vaddr >= BASE), 'only lazy pages are asked of the source');
  t.is(src.late(), 0, 'nothing sent after the close');
});

test('the source hanging up mid-window fails the prefetcher, and the daemon sees its page server go', async (t) => {
  const src = await fakeSource({ hangUpAfter: 1 });
  t.teardown(src.close);
  const p = await started(t);
  p.connect({ host: '127.0.0.1', port: src.port });
  await p.startDaemon(daemonArgv());
  await until(() => src.asked.length > 0);
  p.start(); // its next pull finds the source gone
  const e = await t.throwsAsync(p.done, { instanceOf: MigrateError });
  t.regex(e!.message, /the prefetcher on local failed: prefetcher: the source's page server at 127\.0\.0\.1:\d+ hung up/);
});

test('a daemon that exits before it had every page fails the prefetcher, saying so', async (t) => {
  const src = await fakeSource();
  t.teardown(src.close);
  const p = await started(t);
  p.connect({ host: '127.0.0.1', port: src.port });
  await p.startDaemon(daemonArgv(true));
  t.is(await p.daemonExit, 3);
  await t.throwsAsync(p.done, { message: /the lazy-pages daemon exited with 3 before it had every page/ });
});

test('a daemon that cannot start is an error, not a wait', async (t) => {
  const p = await started(t);
  await t.throwsAsync(p.startDaemon(['/nonexistent/criu', 'lazy-pages']), { message: /exited \(.*\) before it was ready/ });
  await t.throwsAsync(p.done, { message: /cannot start the lazy-pages daemon \(\/nonexistent\/criu\)/ });
});

test('a source port that never completes the TLS handshake fails it within the time given', async (t) => {
  const { createServer: tcpServer } = await import('node:net');
  const squatter = tcpServer(() => {}).listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  t.teardown(() => squatter.close());
  const addr = squatter.address();
  const p = await started(t, 300);
  p.connect({ host: '127.0.0.1', port: typeof addr === 'object' && addr ? addr.port : 0 });
  await t.throwsAsync(p.done, { message: /did not complete the TLS handshake within 0\.3 s/ });
});

test('a host without node: migrate is told why, and moves without it', async (t) => {
  const local = new LocalTransport();
  const noNode: Transport = Object.assign(Object.create(local) as Transport, {
    spawn: (argv: readonly string[], o?: Parameters<Transport['spawn']>[1]): RunningCommand =>
      argv[0] === 'node' ? local.spawn(['sh', '-c', 'echo "sh: 1: node: not found" >&2; exit 127'], o) : local.spawn(argv, o),
  });
  const p = await startPrefetcher(noNode, { ...runDir(t), answerWithinMs: 1000 });
  t.deepEqual(p, { unavailable: 'no node on local' });
});

test('a node older than 18 on the target: the prefetcher refuses to run there, migrate is told why and moves without it', async (t) => {
  const local = new LocalTransport();
  // This node, made to say it is 16 before the prefetcher's own modules load.
  const posing = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"16.20.2"})';
  const oldNode: Transport = Object.assign(Object.create(local) as Transport, {
    spawn: (argv: readonly string[], o?: Parameters<Transport['spawn']>[1]): RunningCommand =>
      local.spawn(argv[0] === 'node' ? ['node', '--import', posing, ...argv.slice(1)] : argv, o),
  });
  const p = await startPrefetcher(oldNode, { ...runDir(t), answerWithinMs: 1000 });
  t.deepEqual(p, { unavailable: 'it did not start on local (Node 18 or later needed): prefetcher: node 16.20.2 is older than 18' });
});
