import test from 'ava';
import { ByteQueue, commandOf, decodeIov, encodeIov, HEADER_BYTES, pagesReply, PE_PRESENT, PS_IOV_ADD_F, PS_IOV_GET } from '../../../../src/prefetch/remote/page-protocol.js';

test('a page_server_iov is 32 bytes: u32 cmd, padding, u64 nr_pages, vaddr, dst_id (little-endian)', (t) => {
  const b = encodeIov({ cmd: PS_IOV_GET, nrPages: 1024, vaddr: 0x7f12_3456_7000, dstId: 42 });
  t.is(b.length, HEADER_BYTES);
  t.is(b.readUInt32LE(0), 7);
  t.is(b.readUInt32LE(4), 0);
  t.is(b.readBigUInt64LE(8), 1024n);
  t.is(b.readBigUInt64LE(16), 0x7f12_3456_7000n);
  t.is(b.readBigUInt64LE(24), 42n);
  t.deepEqual(decodeIov(b), { cmd: 7, nrPages: 1024, vaddr: 0x7f12_3456_7000, dstId: 42 });
});

test('a reply carries PS_IOV_ADD_F with PE_PRESENT in the flag bits, as page_server_get_pages sends it', (t) => {
  const r = pagesReply(1, 0x1000, 3);
  t.is(commandOf(r.cmd), PS_IOV_ADD_F);
  t.is(r.cmd >>> 16, PE_PRESENT);
  t.is(r.nrPages, 3);
});

test('ByteQueue hands out messages across and inside the pieces they arrived in', (t) => {
  const q = new ByteQueue();
  q.push(Buffer.from('abc'));
  q.push(Buffer.from('defgh'));
  t.is(q.take(10), undefined);
  t.is(q.length, 8);
  t.is(Buffer.concat(q.take(4)!).toString(), 'abcd');
  t.is(q.takeJoined(2)!.toString(), 'ef');
  q.push(Buffer.alloc(0));
  q.push(Buffer.from('ij'));
  t.is(q.takeJoined(3)!.toString(), 'ghi');
  t.is(q.length, 1);
});
