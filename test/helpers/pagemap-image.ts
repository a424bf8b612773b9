/** CRIU pagemap images and page contents made up for tests (images/pagemap.proto). */
import { IMG_COMMON_MAGIC, PAGEMAP_MAGIC } from '../../src/prefetch/remote/pagemap.js';
import { PAGE_SIZE } from '../../src/prefetch/remote/page-protocol.js';

/** pagemap.h */
export const PE_PARENT = 1;
export const PE_PRESENT = 4;

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

const field = (no: number, v: number) => [...varint(no * 8), ...varint(v)];

/** A pagemap image as CRIU writes one: magics, pagemap_head, then entries. */
export function pagemapImage(entries: Array<{ vaddr: number; pages: number; flags: number; compat?: boolean }>): Buffer {
  const msgs = [Buffer.from(field(1, 7)), ...entries.map((e) => Buffer.from([
    ...field(1, e.vaddr), ...field(2, e.compat ? e.pages : 0), ...field(4, e.flags), ...(e.compat ? [] : field(5, e.pages)),
  ]))];
  const head = Buffer.alloc(8);
  head.writeUInt32LE(IMG_COMMON_MAGIC, 0);
  head.writeUInt32LE(PAGEMAP_MAGIC, 4);
  return Buffer.concat([head, ...msgs.flatMap((m) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(m.length, 0);
    return [len, m];
  })]);
}


/** `n` pages at `vaddr` of process `pid` whose contents say whose and where they are. */
export function pagesAt(pid: number, vaddr: number, n: number): Buffer {
  const b = Buffer.alloc(n * PAGE_SIZE);
  for (let i = 0; i < n; i++) {
    b.writeUInt32LE(pid, i * PAGE_SIZE);
    b.writeDoubleLE(vaddr + i * PAGE_SIZE, i * PAGE_SIZE + 8);
  }
  return b;
}
