import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lazyRangesOf, PE_LAZY, readLazyRanges } from '../../../../src/prefetch/remote/pagemap.js';
import { PE_PARENT, PE_PRESENT, pagemapImage } from '../../../helpers/pagemap-image.js';


test('only the lazy entries are pulled: not those in the parent or in the pages image', (t) => {
  const img = pagemapImage([
    { vaddr: 0x400000, pages: 2, flags: PE_PRESENT },
    { vaddr: 0x7f00_0000_0000, pages: 300, flags: PE_LAZY | PE_PRESENT },
    { vaddr: 0x7f00_0100_0000, pages: 5, flags: PE_PARENT },
    { vaddr: 0x7ffd_0000_0000, pages: 9, flags: PE_LAZY | PE_PRESENT, compat: true },
  ]);
  t.deepEqual(lazyRangesOf(img, 12), [
    { pid: 12, vaddr: 0x7f00_0000_0000, pages: 300 },
    { pid: 12, vaddr: 0x7ffd_0000_0000, pages: 9 },
  ]);
});

test('a file that is not a pagemap image, or is cut off, is an error', (t) => {
  t.throws(() => lazyRangesOf(Buffer.from('not an image at all'), 1), { message: /not a CRIU pagemap/ });
  const img = pagemapImage([{ vaddr: 0x1000, pages: 1, flags: PE_LAZY }]);
  t.throws(() => lazyRangesOf(img.subarray(0, img.length - 2), 1), { message: /cut off/ });
});

test('every process\'s pagemap in a directory, by pid; shmem pagemaps are not a process\'s', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pagemap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pagemap-10.img'), pagemapImage([{ vaddr: 0x2000, pages: 1, flags: PE_LAZY }]));
  writeFileSync(join(dir, 'pagemap-9.img'), pagemapImage([{ vaddr: 0x1000, pages: 3, flags: PE_LAZY }]));
  writeFileSync(join(dir, 'pagemap-shmem-77.img'), 'ignored');
  writeFileSync(join(dir, 'pages-1.img'), 'ignored');
  t.deepEqual(readLazyRanges(dir), [{ pid: 9, vaddr: 0x1000, pages: 3 }, { pid: 10, vaddr: 0x2000, pages: 1 }]);
});
