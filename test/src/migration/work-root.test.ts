/**
 * The work root (MIGRATE_WORK_DIR, default /var/lib/migrate) holds every checkpoint: memory
 * images, and runc.conf's images-dir link. Preflight refuses one that another user could read,
 * swap or fill: owned by someone else, writable by group or others, or a symlink. Tested on this
 * host (root) with temporary directories.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTransport } from '../../../transports/local.js';
import { isMigrateError } from '../../../transports/errors.js';
import { requireRoom } from '../../../src/migration/preflight.js';
import { TreeAdapter } from '../../../src/migration/kinds/tree.js';
import { migrateWorkload } from '../../../src/migration/migrate-workload.js';
import type { Transport } from '../../../transports/transport.js';
import { scratchDir } from '../../helpers/scratch.js';

const local = new LocalTransport();

test('a world-writable work root is refused (PREFLIGHT), naming the host, the path, its owner and mode, and the fix', async (t) => {
  const root = join(scratchDir(t, 'work-root'), 'work');
  await local.exec(['mkdir', '-m', '0700', root]);
  chmodSync(root, 0o777);
  const e = await t.throwsAsync(requireRoom(local, root, 0));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(String(e), new RegExp(`work directory ${root} .*writable by group or others.*owner root \\(uid 0\\), mode 0777.* on local`));
  t.regex(isMigrateError(e) ? e.hint ?? '' : '', /chown root:root .* && chmod 0700 /);
});

test('a work root owned by another user, or group-writable, is refused', async (t) => {
  const root = join(scratchDir(t, 'work-root'), 'work');
  await local.exec(['mkdir', '-m', '0700', root]);
  chownSync(root, 65534, 65534);
  const e = await t.throwsAsync(requireRoom(local, root, 0));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(String(e), /owned by uid 65534, not root.*owner nobody \(uid 65534\), mode 0700/);
  chownSync(root, 0, 0);
  chmodSync(root, 0o770);
  t.regex(String(await t.throwsAsync(requireRoom(local, root, 0))), /writable by group or others.*mode 0770/);
});

test('a work root that is a symlink is refused, even to a private directory', async (t) => {
  const dir = scratchDir(t, 'work-root');
  await local.exec(['mkdir', '-m', '0700', join(dir, 'real')]);
  symlinkSync(join(dir, 'real'), join(dir, 'work'));
  const e = await t.throwsAsync(requireRoom(local, join(dir, 'work'), 0));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(String(e), /is a symbolic link/);
});

test('a missing work root is made 0700; a root-owned 0700 or 0755 one is used', async (t) => {
  const root = join(scratchDir(t, 'work-root'), 'a', 'work');
  await requireRoom(local, root, 0);
  t.is(statSync(root).mode & 0o7777, 0o700);
  chmodSync(root, 0o755);
  await t.notThrowsAsync(requireRoom(local, root, 0));
});

test('the source\'s work root is checked too, before the target is asked anything', async (t) => {
  const root = join(scratchDir(t, 'work-root'), 'work');
  await local.exec(['mkdir', '-m', '0700', root]);
  chmodSync(root, 0o777);
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => sleeper.kill());
  const target = { name: 'target', isLocal: false, exec: () => Promise.reject(new Error('the target was asked')) } as unknown as Transport;
  const o = { source: local, target, workRoot: root, dryRun: true };
  const e = await t.throwsAsync(migrateWorkload(new TreeAdapter({ ...o, pid: sleeper.pid! }), o));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(String(e), /work directory .* writable by group or others.* on local/);
});
