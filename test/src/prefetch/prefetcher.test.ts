/**
 * The prefetcher as migrate runs it (local transport: node and the built program on this
 * machine), between a made-up source page server and a made-up lazy-pages daemon, both TLS with
 * a fresh run credential. The lab tests run it between real CRIUs.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { LocalTransport } from '../../../transports/local.js';
import { MigrateError } from '../../../transports/errors.js';
import type { RunningCommand, Transport } from '../../../transports/transport.js';
import { newPageCredential, type PageCredential } from '../../../src/criu/page-tls.js';
import { startPrefetcher, type Prefetcher } from '../../../src/prefetch/prefetcher.js';
import { ByteQueue, decodeIov, encodeIov, HEADER_BYTES, PAGE_SIZE, PS_IOV_CLOSE, PS_IOV_GET } from '../../../src/prefetch/remote/page-protocol.js';
import { PE_LAZY } from '../../../src/prefetch/remote/pagemap.js';
import { pagemapImage, PE_PRESENT } from '../../helpers/pagemap-image.js';

const P = PAGE_SIZE;
const BASE = 0x7f00_0000_0000;
const PAGES = 600;

function pagesAt(pid: number, vaddr: number, n: number): Buffer {
  const b = Buffer.alloc(n * P);
  for (let i = 0; i < n; i++) {
    b.writeUInt32LE(pid, i * P);
    b.writeDoubleLE(vaddr + i * P, i * P + 8);
  }
  return b;
}

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
  const server = createServer({ key: cred.key, cert: cred.cert, ca: [cred.cert], requestCert: true, rejectUnauthorized: true }, (s) => {
    const q = new ByteQueue();
    s.on('data', (b: Buffer) => {
      q.push(b);
      for (let h = q.takeJoined(HEADER_BYTES); h; h = q.takeJoined(HEADER_BYTES)) {
        const iov = decodeIov(h);
        if (iov.cmd === PS_IOV_CLOSE) {
          const st = Buffer.alloc(4);
          s.write(st);
          continue;
        }
        asked.push({ vaddr: iov.vaddr, pages: iov.nrPages });
        if (o.hangUpAfter !== undefined && asked.length > o.hangUpAfter) {
          s.destroy();
          return;
        }
        s.write(encodeIov({ cmd: 6 | (4 << 16), nrPages: iov.nrPages, vaddr: iov.vaddr, dstId: iov.dstId }));
        s.write(pagesAt(iov.dstId, iov.vaddr, iov.nrPages));
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  return { asked, port: typeof addr === 'object' && addr ? addr.port : 0, close: () => server.close() };
}

/** A lazy-pages daemon: one request at a time, as CRIU's keeps one in flight per process. */
async function fakeDaemon(p: Prefetcher) {
  const s: TLSSocket = connect({ host: p.endpoint.host, port: p.endpoint.port, key: cred.key, cert: cred.cert, ca: [cred.cert], checkServerIdentity: () => undefined });
  await once(s, 'secureConnect');
  const q = new ByteQueue();
  let wake: (() => void) | undefined;
  s.on('data', (b: Buffer) => {
    q.push(b);
    wake?.();
  });
  const read = async (n: number) => {
    for (;;) {
      const b = q.takeJoined(n);
      if (b) return b;
      await new Promise<void>((r) => (wake = r));
    }
  };
  return {
    async get(vaddr: number, pages: number) {
      s.write(encodeIov({ cmd: PS_IOV_GET, nrPages: pages, vaddr, dstId: 1 }));
      const h = decodeIov(await read(HEADER_BYTES));
      return { header: h, data: await read(h.nrPages * P) };
    },
    async close() {
      s.write(encodeIov({ cmd: PS_IOV_CLOSE, nrPages: 0, vaddr: 0, dstId: 0 }));
      return (await read(4)).readInt32LE(0);
    },
    socket: s,
  };
}

async function started(t: import('ava').ExecutionContext, tr: Transport = new LocalTransport(), answerWithinMs = 10_000): Promise<Prefetcher> {
  const p = await startPrefetcher(tr, { ...runDir(t), answerWithinMs });
  if ('unavailable' in p) throw new Error(p.unavailable);
  t.teardown(() => p.kill());
  return p;
}

test('the daemon gets every page, most of them pulled before it asked; the session ends with the source\'s status', async (t) => {
  const src = await fakeSource();
  t.teardown(src.close);
  const p = await started(t);
  p.connect({ host: '127.0.0.1', port: src.port });
  await p.upstream;
  const d = await fakeDaemon(p);
  const first = await d.get(BASE, 1); // during the restore: only what the daemon asks for
  t.deepEqual(first.data, pagesAt(1, BASE, 1));
  t.deepEqual(src.asked, [{ vaddr: BASE, pages: 1 }], 'that page alone');
  p.start();
  let at = BASE + P;
  let got = 1;
  while (got < PAGES) {
    const r = await d.get(at, Math.min(64, PAGES - got));
    t.is(r.header.vaddr, at);
    t.true(r.header.nrPages > 0);
    t.deepEqual(r.data, pagesAt(1, at, r.header.nrPages));
    got += r.header.nrPages;
    at += r.header.nrPages * P;
    await new Promise((res) => setTimeout(res, 2)); // the daemon places them
  }
  t.is(await d.close(), 0);
  const stats = await p.done;
  t.is(stats.pages_served, PAGES);
  t.true(stats.pages_ready > PAGES / 2, JSON.stringify(stats));
  t.is(stats.pages_forwarded, 1, 'the one page asked for during the restore, before start()');
  t.true(src.asked.every((a) => a.vaddr >= BASE), 'only lazy pages are asked of the source');
});

test('the source hanging up mid-window fails the prefetcher, and the daemon sees its page server go', async (t) => {
  const src = await fakeSource({ hangUpAfter: 1 });
  t.teardown(src.close);
  const p = await started(t);
  p.connect({ host: '127.0.0.1', port: src.port });
  const d = await fakeDaemon(p);
  const closed = once(d.socket, 'close');
  await d.get(BASE + 400 * P, 1);
  p.start(); // its next pull finds the source gone
  const e = await t.throwsAsync(p.done, { instanceOf: MigrateError });
  t.regex(e!.message, /the prefetcher on local failed: prefetcher: the source's page server at 127\.0\.0\.1:\d+ hung up/);
  await closed;
});

test('a source port that never completes the TLS handshake fails it within the time given', async (t) => {
  const { createServer: tcpServer } = await import('node:net');
  const squatter = tcpServer(() => {}).listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  t.teardown(() => squatter.close());
  const addr = squatter.address();
  const p = await started(t, new LocalTransport(), 300);
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
