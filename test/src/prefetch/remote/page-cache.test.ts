import test from 'ava';
import { FAULT_AHEAD_CHUNKS, PageCache, type CacheLimits, type Fetched } from '../../../../src/prefetch/remote/page-cache.js';
import { PAGE_SIZE } from '../../../../src/prefetch/remote/page-protocol.js';
import { pagesAt } from '../../../helpers/pagemap-image.js';

const P = PAGE_SIZE;

function checkPages(t: import('ava').ExecutionContext, pid: number, vaddr: number, r: { pages: number; data: Buffer[] }): void {
  const all = Buffer.concat(r.data);
  t.is(all.length, r.pages * P);
  for (let i = 0; i < r.pages; i++) {
    t.is(all.readUInt32LE(i * P), pid);
    t.is(all.readDoubleLE(i * P + 8), vaddr + i * P);
  }
}

/** A source page server: answers in the order asked, when told to (or at once); may clamp. */
function fakeSource(o: { auto?: boolean; clampAt?: (pid: number, vaddr: number, n: number) => number } = {}) {
  const asked: Array<{ pid: number; vaddr: number; pages: number; answer: () => void; fail: (e: Error) => void }> = [];
  const fetch = (pid: number, vaddr: number, pages: number) => new Promise<Fetched>((resolve, reject) => {
    const n = o.clampAt ? o.clampAt(pid, vaddr, pages) : pages;
    const entry = { pid, vaddr, pages, answer: () => resolve({ pages: n, data: pagesAt(pid, vaddr, n) }), fail: reject };
    asked.push(entry);
    if (o.auto) queueMicrotask(entry.answer);
  });
  return { asked, fetch };
}

const small: CacheLimits = { chunkPages: 4, inflightBytes: 8 * P, bufferedBytes: 16 * P };
const tick = () => new Promise((r) => setImmediate(r));

test('nothing is pulled before start(); then chunks in order, as many as may be in flight', async (t) => {
  const src = fakeSource();
  const cache = new PageCache([{ pid: 1, vaddr: 0x10000, pages: 20 }], src.fetch, small);
  t.is(src.asked.length, 0);
  cache.start();
  t.deepEqual(src.asked.map((a) => [a.vaddr, a.pages]), [[0x10000, 4], [0x10000 + 4 * P, 4]]);
  src.asked[0]!.answer();
  await tick();
  t.is(src.asked.length, 3, 'one arrived, the next goes out');
  t.is(cache.pending, 8 * P);
});

test('the daemon is served from what arrived: its pages, and no more than it asked for', async (t) => {
  const src = fakeSource({ auto: true });
  const cache = new PageCache([{ pid: 1, vaddr: 0x10000, pages: 12 }], src.fetch, small);
  cache.start();
  await tick();
  const r = await cache.serve(1, 0x10000 + 2 * P, 5); // across two chunks
  t.is(r.pages, 5);
  checkPages(t, 1, 0x10000 + 2 * P, r);
  t.is(cache.stats.pages_ready, 5);
  t.is(cache.stats.pages_forwarded, 0);
  const rest = await cache.serve(1, 0x10000 + 7 * P, 100); // up to the end of the run
  t.is(rest.pages, 5);
  checkPages(t, 1, 0x10000 + 7 * P, rest);
});

test('a request for a chunk on its way waits for it; one for pages not yet asked for asks for them alone, at once', async (t) => {
  const src = fakeSource();
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 40 }], src.fetch, small);
  cache.start();
  const near = cache.serve(1, 5 * P, 2); // in chunk 1, on its way
  const far = cache.serve(1, 30 * P, 1); // a page fault far ahead: that page alone
  t.deepEqual(src.asked.map((a) => [a.vaddr / P, a.pages]), [[0, 4], [4, 4], [30, 1]]);
  for (const a of src.asked) a.answer();
  checkPages(t, 1, 5 * P, await near);
  checkPages(t, 1, 30 * P, await far);
  t.is(cache.stats.pages_waited, 2);
  t.is(cache.stats.pages_forwarded, 1);
});

test('the memory held is bounded; a request past the bound is still served', async (t) => {
  const src = fakeSource({ auto: true });
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 64 }], src.fetch, small);
  cache.start();
  for (let i = 0; i < 10; i++) await tick();
  t.is(src.asked.length, 4, '16 pages held at most');
  const r = await cache.serve(1, 61 * P, 3);
  checkPages(t, 1, 61 * P, r);
  t.deepEqual(src.asked.slice(4).map((a) => [a.vaddr / P, a.pages]), [[60, 4]], 'its chunk, once');
  t.is(cache.stats.pages_waited, 3);
});

test('a background request that caught up with the pulling waits for its chunk instead of asking for part of it', async (t) => {
  const src = fakeSource();
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 16 }], src.fetch, small);
  cache.start(); // chunks 0 and 1 asked for (8 pages in flight at most)
  const r = cache.serve(1, 8 * P, 4); // chunk 2: not asked for yet
  t.deepEqual(src.asked.map((a) => [a.vaddr / P, a.pages]), [[0, 4], [4, 4], [8, 4]]);
  for (const a of src.asked.slice()) a.answer();
  checkPages(t, 1, 8 * P, await r);
  for (let i = 0; i < 10; i++) await tick();
  t.false(src.asked.slice(3).some((a) => a.vaddr === 8 * P), 'chunk 2 pulled once');
  t.is(cache.stats.pages_forwarded, 0);
});

test('before start(), the daemon\'s requests pass through as they are', async (t) => {
  const src = fakeSource({ auto: true });
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 64 }], src.fetch, small);
  checkPages(t, 1, 3 * P, await cache.serve(1, 3 * P, 1));
  checkPages(t, 1, 8 * P, await cache.serve(1, 8 * P, 16));
  t.deepEqual(src.asked.map((a) => [a.vaddr / P, a.pages]), [[3, 1], [8, 16]]);
});

test('served pages are let go and the next ones pulled; background requests steer which process comes first', async (t) => {
  const src = fakeSource({ auto: true });
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 16 }, { pid: 2, vaddr: 0, pages: 16 }], src.fetch, small);
  cache.start();
  for (let i = 0; i < 10; i++) await tick();
  t.deepEqual(src.asked.map((a) => a.pid), [1, 1, 1, 1]);
  await cache.serve(2, 0, 4); // the daemon works on process 2 now: its chunks come first
  for (let v = 0; v < 16; v += 4) await cache.serve(1, v * P, 4);
  for (let i = 0; i < 10; i++) await tick();
  t.deepEqual(src.asked.slice(4).map((a) => a.pid), [2, 2, 2, 2], 'every chunk of process 2, each once');
  t.is(cache.stats.pages_served, 20);
});

test('a page fault turns the pulling to where it happened, even behind where the daemon is; then back to the daemon\'s order', async (t) => {
  const src = fakeSource();
  const limits: CacheLimits = { chunkPages: 4, inflightBytes: 4 * P, bufferedBytes: 1024 * P };
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 160 }], src.fetch, limits);
  let answered = 0;
  const answerNext = async () => {
    src.asked[answered++]!.answer();
    for (let i = 0; i < 3; i++) await tick();
  };
  // Before the restore returned, the daemon worked at the end of the memory (chunk 39).
  const early = cache.serve(1, 156 * P, 4);
  await answerNext();
  await early;
  cache.start();
  t.deepEqual(src.asked.slice(1).map((a) => [a.vaddr / P, a.pages]), [[0, 4]], 'one chunk in flight');
  // The workload, resumed, faults in chunk 10: that page alone, at once...
  const fault = cache.serve(1, 41 * P, 1);
  t.deepEqual(src.asked.slice(2).map((a) => [a.vaddr / P, a.pages]), [[41, 1]]);
  await answerNext(); // chunk 0
  await answerNext(); // the faulting page
  checkPages(t, 1, 41 * P, await fault);
  while (answered < src.asked.length) await answerNext();
  const chunks = src.asked.slice(1).filter((a) => a.pages === 4).map((a) => a.vaddr / P / 4);
  // ... then the chunks from the fault on (the faulting one too: the rest of its pages), then the daemon's order (after
  // chunk 39, served before start: the rest from the lowest address).
  const fromFault = Array.from({ length: FAULT_AHEAD_CHUNKS }, (_, k) => 10 + k);
  const rest = Array.from({ length: 39 }, (_, k) => k).filter((k) => k !== 0 && !fromFault.includes(k));
  t.deepEqual(chunks, [0, ...fromFault, ...rest]);
  // The workload's next faults there are served from what was pulled.
  checkPages(t, 1, 42 * P, await cache.serve(1, 42 * P, 1));
  t.is(cache.stats.pages_ready, 1);
});

test('the source sent fewer pages than a chunk asked for: the rest is asked again', async (t) => {
  const src = fakeSource({ auto: true, clampAt: (_pid, vaddr, n) => (vaddr === 0 ? 2 : n) });
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 8 }], src.fetch, small);
  cache.start();
  for (let i = 0; i < 10; i++) await tick();
  t.true(src.asked.some((x) => x.vaddr === 2 * P && x.pages === 2));
  const a = await cache.serve(1, 0, 8); // the clamped chunk, its rest and the next: one run of pages
  t.is(a.pages, 8);
  checkPages(t, 1, 0, a);
  t.is(cache.stats.pages_forwarded, 0);
});

test('pages outside every chunk, or served before, are asked of the source for the daemon', async (t) => {
  const src = fakeSource({ auto: true });
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 4 }], src.fetch, small);
  cache.start();
  await cache.serve(1, 0, 4);
  const again = await cache.serve(1, P, 2);
  checkPages(t, 1, P, again);
  const other = await cache.serve(3, 0x5000, 1);
  checkPages(t, 3, 0x5000, other);
  t.is(cache.stats.pages_forwarded, 3);
});

test('a failed pull fails the request waiting for it, and every later one', async (t) => {
  const src = fakeSource();
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 8 }], src.fetch, small);
  cache.start();
  const waiting = cache.serve(1, 0, 1);
  src.asked[0]!.fail(new Error('the source hung up'));
  await t.throwsAsync(waiting, { message: 'the source hung up' });
  await t.throwsAsync(cache.serve(1, 4 * P, 1), { message: 'the source hung up' });
});

test('pages the daemon got around the chunks are not pulled again: a chunk they cover whole is skipped', async (t) => {
  const src = fakeSource({ auto: true });
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 16 }], src.fetch, small);
  await cache.serve(1, 0, 10); // before start(): chunks 0 and 1 whole, chunk 2 in part
  cache.start();
  for (let i = 0; i < 10; i++) await tick();
  t.deepEqual(src.asked.slice(1).map((a) => a.vaddr / P), [8, 12], 'chunks 2 and 3 only');
  checkPages(t, 1, 10 * P, await cache.serve(1, 10 * P, 6));
});

test('after stop() nothing more is pulled ahead (the daemon closed its session)', async (t) => {
  const src = fakeSource();
  const cache = new PageCache([{ pid: 1, vaddr: 0, pages: 40 }], src.fetch, small);
  cache.start();
  t.is(src.asked.length, 2);
  cache.stop();
  for (const a of src.asked.slice()) a.answer();
  for (let i = 0; i < 10; i++) await tick();
  t.is(src.asked.length, 2);
});
