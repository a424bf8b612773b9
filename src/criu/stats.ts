/**
 * Decodes CRIU's `stats-dump` and `stats-restore` images. Layout (criu/include/magic.h,
 * criu/image.c): u32 IMG_SERVICE_MAGIC, u32 STATS_MAGIC, then one protobuf StatsEntry preceded
 * by its u32 length, all little-endian. Times are microseconds.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { MigrateError } from '../../transports/errors.js';

const IMG_SERVICE_MAGIC = 0x55105940;
const STATS_MAGIC = 0x57093306;

/** CRIU's images/stats.proto, the part migrate reads (stats.proto beside this module). */
const SCHEMA = readFileSync(new URL('./stats.proto', import.meta.url), 'utf8');

const StatsEntry = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('stats_entry');

/** The size of a page CRIU counts in its stats and writes into pages-*.img (4 KiB on the hosts this runs on). */
export const PAGE_SIZE = 4096;

export interface DumpStats {
  freezingTimeUs: number;
  frozenTimeUs: number;
  memdumpTimeUs: number;
  memwriteTimeUs: number;
  irmapResolveUs: number;
  pagesScanned: number;
  pagesSkippedParent: number;
  pagesWritten: number;
  pagesLazy: number;
  pagePipes: number;
  pagePipeBufs: number;
}

export interface RestoreStats {
  pagesCompared: number;
  pagesSkippedCow: number;
  forkingTimeUs: number;
  restoreTimeUs: number;
  pagesRestored: number;
}

type Raw = Record<string, number | undefined>;

function decodeEntry(image: Buffer, what: string): { dump?: Raw; restore?: Raw } {
  if (image.length < 12 || image.readUInt32LE(0) !== IMG_SERVICE_MAGIC || image.readUInt32LE(4) !== STATS_MAGIC) {
    throw new MigrateError('IMAGE_CORRUPT', `${what} is not a CRIU stats image (bad magic)`);
  }
  const size = image.readUInt32LE(8);
  if (12 + size > image.length) throw new MigrateError('IMAGE_CORRUPT', `${what} is truncated`);
  const msg = StatsEntry.decode(image.subarray(12, 12 + size));
  return StatsEntry.toObject(msg, { longs: Number, defaults: true }) as { dump?: Raw; restore?: Raw };
}

const n = (v: number | undefined) => v ?? 0;

export function decodeDumpStats(image: Buffer): DumpStats {
  const d = decodeEntry(image, 'stats-dump').dump;
  if (!d) throw new MigrateError('IMAGE_CORRUPT', 'stats-dump holds no dump entry');
  return {
    freezingTimeUs: n(d.freezing_time),
    frozenTimeUs: n(d.frozen_time),
    memdumpTimeUs: n(d.memdump_time),
    memwriteTimeUs: n(d.memwrite_time),
    irmapResolveUs: n(d.irmap_resolve),
    pagesScanned: n(d.pages_scanned),
    pagesSkippedParent: n(d.pages_skipped_parent),
    pagesWritten: n(d.pages_written),
    pagesLazy: n(d.pages_lazy),
    pagePipes: n(d.page_pipes),
    pagePipeBufs: n(d.page_pipe_bufs),
  };
}

export function decodeRestoreStats(image: Buffer): RestoreStats {
  const r = decodeEntry(image, 'stats-restore').restore;
  if (!r) throw new MigrateError('IMAGE_CORRUPT', 'stats-restore holds no restore entry');
  return {
    pagesCompared: n(r.pages_compared),
    pagesSkippedCow: n(r.pages_skipped_cow),
    forkingTimeUs: n(r.forking_time),
    restoreTimeUs: n(r.restore_time),
    pagesRestored: n(r.pages_restored),
  };
}

/** Encodes stats the way CRIU writes them (used by tests to build fixtures). */
export function encodeStatsImage(entry: { dump?: Raw; restore?: Raw }): Buffer {
  const body = Buffer.from(StatsEntry.encode(StatsEntry.fromObject(entry)).finish());
  const head = Buffer.alloc(12);
  head.writeUInt32LE(IMG_SERVICE_MAGIC, 0);
  head.writeUInt32LE(STATS_MAGIC, 4);
  head.writeUInt32LE(body.length, 8);
  return Buffer.concat([head, body]);
}

/** How a lazy-pages daemon filled a restored workload's memory. */
export interface LazyPagesStats {
  /** Page faults it served on demand (one page each: the workload touched a page not yet there). */
  onDemand: number;
  /** Pages it copied in ahead of any fault. */
  background: number;
  /** Pages copied in all (its `UFFD transferred pages` lines, summed over processes). */
  total: number;
}

/**
 * Reads them from lazy-pages.log (verbosity 4): CRIU's uffd.c logs `#PF at ADDR` for every fault
 * it serves (handle_page_fault requests exactly that page) and `UFFD transferred pages: (n/m)`
 * per process at the end. Faults on a page already requested, or on a page outside the images
 * (zero-filled), are counted too: `onDemand` is an upper bound.
 */
export function parseLazyPagesLog(text: string): LazyPagesStats {
  const onDemandRaw = (text.match(/#PF at 0x/g) ?? []).length;
  let total = 0;
  for (const m of text.matchAll(/UFFD transferred pages: \((\d+)\/(\d+)\)/g)) total += Number(m[1]);
  const onDemand = Math.min(onDemandRaw, total);
  return { onDemand, background: total - onDemand, total };
}
