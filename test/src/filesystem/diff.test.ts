import test from 'ava';
import { diffListings } from '../../../src/filesystem/diff.js';
import type { Entry, Listing } from '../../../src/filesystem/listing.js';

const entry = (over: Partial<Entry> = {}): Entry => ({
  type: 'f', ino: 1, links: 1, size: 10, mtime: '100.0', ctime: 100, ctimeText: '100.0', mode: '644', uid: 0, gid: 0, ...over,
});

const listing = (startedAt: number, entries: Array<[string, Partial<Entry>]>): Listing =>
  ({ startedAt, entries: new Map(entries.map(([n, e]) => [n, entry(e)])) });

test('an unchanged tree sends nothing and removes nothing', (t) => {
  const a = listing(500, [['.', { type: 'd', ino: 1 }], ['f', { ino: 2 }]]);
  t.deepEqual(diffListings(a, listing(600, [['.', { type: 'd', ino: 1 }], ['f', { ino: 2 }]])), { send: [], remove: [] });
});

test('a changed file is sent with its parents, in listing order', (t) => {
  const a = listing(500, [['.', { type: 'd' }], ['d', { type: 'd', ino: 2 }], ['d/e', { type: 'd', ino: 3 }], ['d/e/f', { ino: 4 }], ['g', { ino: 5 }]]);
  const b = listing(600, [['.', { type: 'd' }], ['d', { type: 'd', ino: 2 }], ['d/e', { type: 'd', ino: 3 }], ['d/e/f', { ino: 4, size: 11, ctime: 550, ctimeText: '550.0' }], ['g', { ino: 5 }]]);
  t.deepEqual(diffListings(a, b), { send: ['d', 'd/e', 'd/e/f'], remove: [] });
});

test('any metadata change counts: mode, owner, inode (replaced by rename), link count', (t) => {
  const a = listing(500, [['m', { ino: 2 }], ['o', { ino: 3 }], ['r', { ino: 4 }], ['l', { ino: 5 }]]);
  const b = listing(600, [['m', { ino: 2, mode: '600' }], ['o', { ino: 3, uid: 1000 }], ['r', { ino: 9 }], ['l', { ino: 5, links: 2 }]]);
  t.deepEqual(diffListings(a, b).send, ['m', 'o', 'r', 'l']);
});

test('an entry changed in the same clock tick as the first listing is sent again although nothing differs', (t) => {
  const a = listing(100.5, [['f', { ino: 2, ctime: 100, ctimeText: '100.0' }], ['old', { ino: 3, ctime: 10, ctimeText: '10.0' }]]);
  const b = listing(200, [['f', { ino: 2, ctime: 100, ctimeText: '100.0' }], ['old', { ino: 3, ctime: 10, ctimeText: '10.0' }]]);
  t.deepEqual(diffListings(a, b).send, ['f']);
});

test('removals name only the top of a removed subtree; a type change is a removal and a send', (t) => {
  const a = listing(500, [['gone', { type: 'd', ino: 2 }], ['gone/x', { ino: 3 }], ['gone/y', { ino: 4 }], ['swap', { type: 'd', ino: 5 }], ['swap/z', { ino: 6 }]]);
  const b = listing(600, [['swap', { type: 'f', ino: 7, ctime: 550, ctimeText: '550.0' }]]);
  t.deepEqual(diffListings(a, b), { send: ['swap'], remove: ['gone', 'swap'] });
});

test('a new file (or a hard link to it) is sent', (t) => {
  const a = listing(500, [['a', { ino: 2 }]]);
  const b = listing(600, [['a', { ino: 2, links: 2, ctime: 550, ctimeText: '550.0' }], ['b', { ino: 2, links: 2, ctime: 550, ctimeText: '550.0' }]]);
  t.deepEqual(diffListings(a, b).send, ['a', 'b']);
});
