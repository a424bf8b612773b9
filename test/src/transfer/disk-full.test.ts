import test from 'ava';
import { isFull, parseFreeSpace } from '../../../src/transfer/disk-full.js';

const df = (availKiB: string, ifree: string) => `Filesystem     1024-blocks  Used Available Capacity Mounted on
migrate-small       163840 163836 ${availKiB}     100% /var/lib/m
Filesystem     Inodes IUsed IFree IUse% Mounted on
migrate-small   12000    40 ${ifree}    1% /var/lib/m
`;

test('df output: a filesystem with a few KiB left is full, one with room is not', (t) => {
  t.true(isFull(parseFreeSpace(df('4', '11960'))!));
  t.false(isFull(parseFreeSpace(df('8192', '11960'))!));
});

test('df output: no inode left is full; a filesystem without an inode count is judged by blocks', (t) => {
  t.true(isFull(parseFreeSpace(df('500000', '0'))!));
  t.deepEqual(parseFreeSpace(df('500000', '-')), { availBytes: 500000 * 1024, freeInodes: null });
  t.false(isFull(parseFreeSpace(df('500000', '-'))!));
  t.is(parseFreeSpace('df: /x: No such file or directory'), undefined);
});
