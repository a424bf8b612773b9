/**
 * CRIU's page-server protocol as a lazy-pages daemon speaks it (criu/page-xfer.c, 4.x): every
 * message starts with a `struct page_server_iov` — u32 cmd, 4 bytes of padding, u64 nr_pages,
 * u64 vaddr, u64 dst_id; 32 bytes, little-endian on the hosts CRIU runs on.
 *
 * - The daemon asks `PS_IOV_GET` for nr_pages at vaddr of the process whose (virtual) pid is
 *   dst_id. The server answers with the same header, cmd `PS_IOV_ADD_F` with `PE_PRESENT` in
 *   the flag bits and nr_pages clamped to the end of the run of pages that holds vaddr, then the
 *   pages. It answers in order, one request after the other. A request for pages it does not
 *   hold ends its session (page_server_get_pages: "no iovs found").
 * - At the end the daemon sends `PS_IOV_CLOSE` and reads back an int32 status.
 *
 * This module has no imports: it runs on the target inside the prefetcher (remote/main.ts).
 */
export const PAGE_SIZE = 4096;
export const HEADER_BYTES = 32;

export const PS_IOV_ADD_F = 6;
export const PS_IOV_GET = 7;
export const PS_IOV_CLOSE = 0x1023;
export const PS_IOV_FORCE_CLOSE = 0x1024;
const PS_CMD_BITS = 16;
const PS_CMD_MASK = (1 << PS_CMD_BITS) - 1;
/** pagemap.h: the pages are in the pages image (or, served, on the wire). */
export const PE_PRESENT = 1 << 2;

export interface PageIov {
  cmd: number;
  nrPages: number;
  vaddr: number;
  dstId: number;
}

export const commandOf = (cmd: number): number => cmd & PS_CMD_MASK;

/** The header of a reply carrying `nrPages` pages at `vaddr` of `dstId`. */
export const pagesReply = (dstId: number, vaddr: number, nrPages: number): PageIov =>
  ({ cmd: (PE_PRESENT << PS_CMD_BITS) | PS_IOV_ADD_F, nrPages, vaddr, dstId });

export function encodeIov(iov: PageIov): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeUInt32LE(iov.cmd >>> 0, 0);
  b.writeBigUInt64LE(BigInt(iov.nrPages), 8);
  b.writeBigUInt64LE(BigInt(iov.vaddr), 16);
  b.writeBigUInt64LE(BigInt(iov.dstId), 24);
  return b;
}

/** Addresses and counts stay below 2^53 (47-bit user addresses): plain numbers. */
export function decodeIov(b: Buffer): PageIov {
  return {
    cmd: b.readUInt32LE(0),
    nrPages: Number(b.readBigUInt64LE(8)),
    vaddr: Number(b.readBigUInt64LE(16)),
    dstId: Number(b.readBigUInt64LE(24)),
  };
}

/**
 * Bytes arriving in pieces, taken off in sized messages. `take(n)` returns the next n bytes as a
 * list of slices (no copy of large page runs), or undefined until that many have arrived.
 */
export class ByteQueue {
  private parts: Buffer[] = [];
  private size = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.size += b.length;
  }

  get length(): number {
    return this.size;
  }

  take(n: number): Buffer[] | undefined {
    if (this.size < n) return undefined;
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.parts[0]!;
      if (head.length <= need) {
        out.push(head);
        this.parts.shift();
        need -= head.length;
      } else {
        out.push(head.subarray(0, need));
        this.parts[0] = head.subarray(need);
        need = 0;
      }
    }
    this.size -= n;
    return out;
  }

  /** The next n bytes as one buffer (for headers). */
  takeJoined(n: number): Buffer | undefined {
    const parts = this.take(n);
    return parts && (parts.length === 1 ? parts[0]! : Buffer.concat(parts, n));
  }
}
