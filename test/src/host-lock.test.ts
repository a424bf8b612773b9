import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../../transports/local.js';
import { lockHost } from '../../src/host-lock.js';
import { isMigrateError } from '../../transports/errors.js';

const local = new LocalTransport();

test('a held lock says LOCKED; once released it can be taken again', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'lock-')), 'x.lock');
  const first = await lockHost(local, path, 'thing');
  const e = await t.throwsAsync(lockHost(local, path, 'thing'));
  t.true(isMigrateError(e, 'LOCKED'), String(e));
  await first.release();
  await (await lockHost(local, path, 'thing')).release();
});

test('a lock that cannot be taken at all is not reported as held by another run', async (t) => {
  const e = await t.throwsAsync(lockHost(local, '/nonexistent-dir-for-migrate/x.lock', 'thing'));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(isMigrateError(e) ? e.hint ?? '' : '', /\/nonexistent-dir-for-migrate exists and is writable/);
});
