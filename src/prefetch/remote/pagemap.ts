/**
 * What a lazy dump left to be pulled: the PE_LAZY entries of its pagemap-<pid>.img files (CRIU
 * images/pagemap.proto). An image is two u32 magics (IMG_COMMON_MAGIC, PAGEMAP_MAGIC), then
 * entries, each a u32 length and a protobuf message: one pagemap_head, then pagemap_entry's —
 * vaddr (1), compat_nr_pages (2), in_parent (3), flags (4), nr_pages (5, wins over 2).
 *
 * Only node: imports: it runs on the target inside the prefetcher (remote/main.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const IMG_COMMON_MAGIC = 0x54564319;
export const PAGEMAP_MAGIC = 0x56084025;
/** pagemap.h: the pages can be restored lazily (they stay with the source's page server). */
export const PE_LAZY = 1 << 1;

/** A run of pages the source's page server holds for process `pid` (its virtual pid). */
export interface LazyRange {
  pid: number;
  vaddr: number;
  pages: number;
}

/** A varint at `at`: its value (exact below 2^53) and the offset after it. */
function varint(b: Buffer, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < b.length; i++) {
    const byte = b[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return [value, i + 1];
  }
  throw new Error('pagemap image: a number runs past the end of its entry');
}

interface PagemapEntry { vaddr: number; nrPages: number; flags: number }

function decodeEntry(b: Buffer): PagemapEntry {
  let vaddr = 0;
  let compat = 0;
  let nrPages: number | undefined;
  let flags = 0;
  for (let at = 0; at < b.length;) {
    const [key, next] = varint(b, at);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire !== 0) throw new Error(`pagemap image: field ${field} has wire type ${wire}, not a varint`);
    const [value, after] = varint(b, next);
    at = after;
    if (field === 1) vaddr = value;
    else if (field === 2) compat = value;
    else if (field === 4) flags = value;
    else if (field === 5) nrPages = value;
  }
  return { vaddr, nrPages: nrPages ?? compat, flags };
}

/** The lazy ranges of one pagemap image of process `pid`, in the image's order. */
export function lazyRangesOf(image: Buffer, pid: number): LazyRange[] {
  if (image.length < 8 || image.readUInt32LE(0) !== IMG_COMMON_MAGIC || image.readUInt32LE(4) !== PAGEMAP_MAGIC) {
    throw new Error(`pagemap image of ${pid}: not a CRIU pagemap (magic)`);
  }
  const out: LazyRange[] = [];
  let head = true;
  for (let at = 8; at < image.length;) {
    if (at + 4 > image.length) throw new Error(`pagemap image of ${pid}: cut off`);
    const len = image.readUInt32LE(at);
    const end = at + 4 + len;
    if (end > image.length) throw new Error(`pagemap image of ${pid}: cut off`);
    const body = image.subarray(at + 4, end);
    at = end;
    if (head) {
      head = false; // pagemap_head: where the pages image is, nothing to pull
      continue;
    }
    const e = decodeEntry(body);
    if (e.flags & PE_LAZY && e.nrPages > 0) out.push({ pid, vaddr: e.vaddr, pages: e.nrPages });
  }
  return out;
}

/** Every process's lazy ranges in `dir` (pagemap-<pid>.img; not pagemap-shmem-*), by pid. */
export function readLazyRanges(dir: string): LazyRange[] {
  const pids = readdirSync(dir)
    .map((name) => /^pagemap-(\d+)\.img$/.exec(name)?.[1])
    .filter((p): p is string => p !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  return pids.flatMap((pid) => lazyRangesOf(readFileSync(join(dir, `pagemap-${pid}.img`)), pid));
}
