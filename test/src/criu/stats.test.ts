import test from 'ava';
import { decodeDumpStats, decodeRestoreStats, encodeStatsImage, parseLazyPagesLog } from '../../../src/criu/stats.js';
import { isMigrateError } from '../../../transports/errors.js';

test('decodes a dump stats image', (t) => {
  const img = encodeStatsImage({ dump: { freezing_time: 10, frozen_time: 2000, memdump_time: 900, memwrite_time: 800, pages_scanned: 70000, pages_skipped_parent: 5, pages_written: 65536, pages_lazy: 0 } });
  const s = decodeDumpStats(img);
  t.is(s.frozenTimeUs, 2000);
  t.is(s.pagesWritten, 65536);
  t.is(s.pagesSkippedParent, 5);
  t.is(s.irmapResolveUs, 0);
});

test('decodes a restore stats image', (t) => {
  const s = decodeRestoreStats(encodeStatsImage({ restore: { pages_compared: 1, pages_skipped_cow: 2, forking_time: 3, restore_time: 4, pages_restored: 5 } }));
  t.deepEqual(s, { pagesCompared: 1, pagesSkippedCow: 2, forkingTimeUs: 3, restoreTimeUs: 4, pagesRestored: 5 });
});

test('rejects bad magic, truncation and the wrong kind', (t) => {
  const good = encodeStatsImage({ restore: { pages_compared: 1, pages_skipped_cow: 2, forking_time: 3, restore_time: 4 } });
  const bad = Buffer.from(good);
  bad.writeUInt32LE(0, 0);
  t.true(isMigrateError(t.throws(() => decodeRestoreStats(bad)), 'IMAGE_CORRUPT'));
  t.true(isMigrateError(t.throws(() => decodeRestoreStats(good.subarray(0, good.length - 2))), 'IMAGE_CORRUPT'));
  t.true(isMigrateError(t.throws(() => decodeDumpStats(good)), 'IMAGE_CORRUPT'));
});

test('lazy-pages log: faults served on demand vs pages copied in the background', (t) => {
  const log = [
    '(00.01) 41-5: #PF at 0x7f0000001000', '(00.01) 41-5: uffd_copy: 0x7f0000001000/4096',
    '(00.02) 41-5: #PF at 0x7f0000002000', 'UFFD transferred pages: (1000/1000)', 'UFFD transferred pages: (24/24)',
  ].join('\n');
  t.deepEqual(parseLazyPagesLog(log), { onDemand: 2, background: 1022, total: 1024 });
  t.deepEqual(parseLazyPagesLog(''), { onDemand: 0, background: 0, total: 0 });
});
