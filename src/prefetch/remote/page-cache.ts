/**
 * The prefetcher's pages: every lazy range the source serves, cut into chunks and pulled from
 * the source's page server ahead of the lazy-pages daemon, so that the link never waits for the
 * daemon to place a run of pages before it asks for the next (CRIU's daemon keeps one request in
 * flight per process: criu/uffd.c, xfer_pages only when its request list is empty).
 *
 * Pull order: from the workload's last page fault on, FAULT_AHEAD_CHUNKS chunks; then where the
 * daemon's background requests are; then what is left, lowest address first.
 *
 * `serve` answers one of the daemon's requests as CRIU's page server would: the pages from vaddr
 * on, at most as many as asked, within the run that holds vaddr. A chunk still on its way is
 * awaited, and so is one not yet asked for that a background request needs (it is asked for
 * then). A page fault on a chunk not yet asked for, and anything before start(), are asked of
 * the source as the daemon asked, and so are pages no longer held or never known of — CRIU's
 * lazy page server tee()s its pipes and can serve a page any number of times, so a chunk pulled
 * later that holds them again costs bytes, not correctness.
 *
 * Only relative imports: it runs on the target inside the prefetcher (remote/main.ts).
 */
import { PAGE_SIZE } from './page-protocol.js';
import type { LazyRange } from './pagemap.js';

/** Pages as the source's page server sent them: maybe fewer than asked. */
export interface Fetched {
  pages: number;
  data: Buffer;
}

export type Fetch = (pid: number, vaddr: number, pages: number) => Promise<Fetched>;

export interface CacheLimits {
  /** Pages per request to the source. */
  chunkPages: number;
  /** Requested from the source and not yet arrived: bounds how long a page fault waits behind them. */
  inflightBytes: number;
  /** Arrived or on the way and not yet served: bounds the prefetcher's memory. */
  bufferedBytes: number;
}

export const DEFAULT_LIMITS: CacheLimits = { chunkPages: 256, inflightBytes: 4 << 20, bufferedBytes: 128 << 20 };

/**
 * Chunks from a page fault on that are pulled before anything else: a workload that faults
 * walks its memory (memload, a hash table being rewritten, a heap being scanned), and its next
 * faults are in what follows. 16 chunks: 16 MiB, a tenth of a second of the link.
 */
export const FAULT_AHEAD_CHUNKS = 16;

export interface CacheStats {
  requests: number;
  pages_served: number;
  /** Served from chunks that had arrived before the daemon asked. */
  pages_ready: number;
  /** Served from chunks the daemon had to wait for. */
  pages_waited: number;
  /** Asked of the source for the daemon itself (not pulled yet, outside every chunk, or served before). */
  pages_forwarded: number;
  /** Pulled ahead of the daemon. */
  pages_prefetched: number;
  peak_buffered_bytes: number;
}

interface Chunk {
  pid: number;
  vaddr: number;
  pages: number;
  state: 'planned' | 'inflight' | 'ready' | 'dropped';
  data?: Buffer;
  arrived?: Promise<void>;
  served: number;
}

const bytesOf = (pages: number) => pages * PAGE_SIZE;

export class PageCache {
  private readonly chunks = new Map<number, Chunk[]>();
  private readonly pids: number[];
  /** Per process: no planned chunk before this index. */
  private readonly cursor = new Map<number, number>();
  private focus: number | undefined;
  /** Where the workload last faulted on a chunk not pulled yet: pulled from there on first. */
  private fault: { pid: number; index: number } | undefined;
  private inflight = 0;
  private buffered = 0;
  private started = false;
  private failure: unknown;
  readonly stats: CacheStats = { requests: 0, pages_served: 0, pages_ready: 0, pages_waited: 0, pages_forwarded: 0, pages_prefetched: 0, peak_buffered_bytes: 0 };

  constructor(ranges: readonly LazyRange[], private readonly fetch: Fetch, private readonly limits: CacheLimits = DEFAULT_LIMITS) {
    for (const r of ranges) {
      const list = this.chunks.get(r.pid) ?? [];
      for (let off = 0; off < r.pages; off += limits.chunkPages) {
        list.push({ pid: r.pid, vaddr: r.vaddr + bytesOf(off), pages: Math.min(limits.chunkPages, r.pages - off), state: 'planned', served: 0 });
      }
      this.chunks.set(r.pid, list);
    }
    for (const list of this.chunks.values()) list.sort((a, b) => a.vaddr - b.vaddr);
    this.pids = [...this.chunks.keys()].sort((a, b) => a - b);
    for (const pid of this.pids) this.cursor.set(pid, 0);
  }

  /** Starts pulling ahead (once the restore returned: while it runs, the CPU is the freeze's). */
  start(): void {
    this.started = true;
    this.pump();
  }

  /** Pulls nothing more ahead (the daemon closed its session: whatever it still wanted it has). */
  stop(): void {
    this.started = false;
  }

  /** Bytes asked of the source and not yet arrived. */
  get pending(): number {
    return this.inflight;
  }

  /** The daemon's request: nrPages at vaddr of pid, answered in full or in part. */
  async serve(pid: number, vaddr: number, nrPages: number): Promise<{ pages: number; data: Buffer[] }> {
    this.stats.requests++;
    if (this.failure) throw this.failure;
    let waited = false;
    for (;;) {
      const list = this.chunks.get(pid);
      const i = list ? this.indexOf(list, vaddr) : -1;
      const c = i >= 0 ? list![i]! : undefined;
      if (nrPages > 1 && c) this.follow(pid, i); // a background request: the daemon's order
      if (!c || c.state === 'dropped') return this.forward(pid, vaddr, nrPages);
      if (c.state === 'planned') {
        // Before start(), and for a page fault, just what the daemon asked: one page, not a chunk's
        // worth of wait. A background request pulls its chunk: the daemon has caught up with the
        // pulling, and asking for part of a chunk the pulling will fetch anyway would carry it twice.
        // A fault also turns the pulling to where it happened: the workload's next faults are
        // likely in what follows (without this, a workload rewriting its memory in order faulted
        // page by page, each fault waiting behind pulls elsewhere: stalls of 0.5 s and more).
        if (nrPages === 1) this.fault = { pid, index: i };
        if (!this.started || nrPages === 1) return this.forward(pid, vaddr, nrPages);
        this.load(c);
      }
      if (c.state !== 'ready') {
        await c.arrived;
        waited = true;
        continue; // look again: a chunk may have been clamped (and the list grown) meanwhile
      }
      return this.take(list!, i, vaddr, nrPages, waited ? 'pages_waited' : 'pages_ready');
    }
  }

  private async forward(pid: number, vaddr: number, nrPages: number): Promise<{ pages: number; data: Buffer[] }> {
    const r = await this.fetch(pid, vaddr, nrPages);
    this.stats.pages_forwarded += r.pages;
    this.stats.pages_served += r.pages;
    this.served(pid, vaddr, r.pages);
    return { pages: r.pages, data: [r.data] };
  }

  /**
   * Pages the daemon got around the chunks (asked of the source for it): a chunk they cover
   * whole is not pulled (again), or let go. Before start() the daemon's own background requests
   * may carry much of the memory so.
   */
  private served(pid: number, vaddr: number, pages: number): void {
    const list = this.chunks.get(pid);
    if (!list) return;
    const end = vaddr + bytesOf(pages);
    for (const c of list) {
      const from = Math.max(c.vaddr, vaddr);
      const to = Math.min(c.vaddr + bytesOf(c.pages), end);
      if (to <= from || c.state === 'dropped') continue;
      c.served += (to - from) / PAGE_SIZE;
      if (c.served < c.pages) continue;
      if (c.state === 'planned') c.state = 'dropped';
      else if (c.state === 'ready') this.drop(c);
    }
  }

  /** Pages from vaddr in chunk i on, through the following chunks that have arrived and adjoin it. */
  private take(list: Chunk[], i: number, vaddr: number, nrPages: number, kind: 'pages_ready' | 'pages_waited'): { pages: number; data: Buffer[] } {
    const data: Buffer[] = [];
    let pages = 0;
    let at = vaddr;
    for (let j = i; j < list.length && pages < nrPages; j++) {
      const c = list[j]!;
      if (c.state !== 'ready' || c.vaddr + bytesOf(c.pages) <= at || c.vaddr > at) break;
      const from = (at - c.vaddr) / PAGE_SIZE;
      const n = Math.min(c.pages - from, nrPages - pages);
      data.push(c.data!.subarray(bytesOf(from), bytesOf(from + n)));
      pages += n;
      at += bytesOf(n);
      c.served += n;
      if (c.served >= c.pages) this.drop(c);
    }
    this.stats[kind] += pages;
    this.stats.pages_served += pages;
    this.pump();
    return { pages, data };
  }

  private drop(c: Chunk): void {
    c.state = 'dropped';
    c.data = undefined;
    this.buffered -= bytesOf(c.pages);
  }

  private indexOf(list: Chunk[], vaddr: number): number {
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = list[mid]!;
      if (vaddr < c.vaddr) hi = mid - 1;
      else if (vaddr >= c.vaddr + bytesOf(c.pages)) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** The daemon works through pid's memory at chunk i: pull what follows, this process first. */
  private follow(pid: number, i: number): void {
    this.focus = pid;
    if ((this.cursor.get(pid) ?? 0) < i) this.cursor.set(pid, i);
  }

  private nextPlanned(): Chunk | undefined {
    if (this.fault) {
      const list = this.chunks.get(this.fault.pid)!;
      const end = Math.min(list.length, this.fault.index + FAULT_AHEAD_CHUNKS);
      for (let k = this.fault.index; k < end; k++) if (list[k]!.state === 'planned') return list[k];
      this.fault = undefined; // what follows the fault is pulled (or was served): back to the daemon's order
    }
    const order = this.focus === undefined ? this.pids : [this.focus, ...this.pids.filter((p) => p !== this.focus)];
    for (const pid of order) {
      const list = this.chunks.get(pid)!;
      let k = this.cursor.get(pid) ?? 0;
      while (k < list.length && list[k]!.state !== 'planned') k++;
      this.cursor.set(pid, k);
      if (k < list.length) return list[k];
    }
    // Past every cursor: what the daemon jumped over (it may never ask; pulled last).
    for (const pid of order) {
      const c = this.chunks.get(pid)!.find((x) => x.state === 'planned');
      if (c) return c;
    }
    return undefined;
  }

  private pump(): void {
    if (!this.started || this.failure) return;
    while (this.inflight < this.limits.inflightBytes && this.buffered < this.limits.bufferedBytes) {
      const c = this.nextPlanned();
      if (!c) return;
      this.load(c);
      this.stats.pages_prefetched += c.pages;
    }
  }

  private load(c: Chunk): void {
    const bytes = bytesOf(c.pages);
    c.state = 'inflight';
    this.inflight += bytes;
    this.buffered += bytes;
    this.stats.peak_buffered_bytes = Math.max(this.stats.peak_buffered_bytes, this.buffered);
    c.arrived = this.fetch(c.pid, c.vaddr, c.pages).then((r) => {
      this.inflight -= bytes;
      if (r.pages < c.pages) this.clamp(c, r.pages);
      c.data = r.data;
      c.state = 'ready';
      if (c.served >= c.pages) this.drop(c); // the daemon got them meanwhile, around it
      this.pump();
    }, (e: unknown) => {
      this.inflight -= bytes;
      this.failure ??= e;
      throw e;
    });
    c.arrived.catch(() => {}); // a waiting serve() sees it; the session ends on the first failure
  }

  /** The source sent fewer pages than the chunk asked for: the rest becomes a chunk of its own. */
  private clamp(c: Chunk, got: number): void {
    const list = this.chunks.get(c.pid)!;
    const i = list.indexOf(c);
    const rest: Chunk = { pid: c.pid, vaddr: c.vaddr + bytesOf(got), pages: c.pages - got, state: 'planned', served: 0 };
    this.buffered -= bytesOf(rest.pages);
    c.pages = got;
    list.splice(i + 1, 0, rest);
    this.cursor.set(c.pid, Math.min(this.cursor.get(c.pid) ?? 0, i + 1));
    if (this.fault?.pid === c.pid && this.fault.index > i) this.fault.index++;
  }
}
