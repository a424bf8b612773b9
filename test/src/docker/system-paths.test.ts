/**
 * The rule of which bind mounts --copy-bind-mounts refuses (a pure function of the path and the
 * host's protected paths), and the check on a host, which resolves symlinks and `..` there.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_DIRS, protectedPaths, refuseSystemPaths, systemPathReason } from '../../../src/docker/system-paths.js';
import { LocalTransport } from '../../../transports/local.js';
import { isMigrateError } from '../../../transports/errors.js';
import { scratchDir } from '../../helpers/scratch.js';

const list = protectedPaths({ dockerRoot: '/data/docker', workRoot: '/srv/migrate-work' });
const reason = (p: string) => systemPathReason(p, list);

test('the system directories themselves are refused, / included', (t) => {
  for (const p of [...SYSTEM_DIRS, '/var/lib', '/var/lib/docker', '/var/log', '/var/lib/migrate', '/run/lock', '/etc/criu']) {
    t.truthy(reason(p), p);
  }
  t.is(reason('/etc'), 'is a system directory');
  t.is(reason('/'), 'is a system directory');
});

test('/usr\'s own directories are refused, deeper ones are not', (t) => {
  for (const p of ['/usr/lib', '/usr/local', '/usr/share']) t.is(reason(p), 'is a system directory (in /usr)', p);
  t.is(reason('/usr/share/nginx/html'), undefined);
});

const cases = (t: ExecutionContext, table: Array<[string, string]>) => {
  for (const [path, why] of table) t.is(reason(path), why, path);
};

test('the host\'s Docker data root and work root, trees nothing inside is copied from, and what holds them', (t) => cases(t, [
  ['/data/docker', "is Docker's data root"],
  ['/data/docker/volumes/x/_data', "is inside Docker's data root /data/docker"],
  ['/data', "holds Docker's data root /data/docker"],
  ['/srv/migrate-work', "is migrate's work directory"],
  ['/var/lib/docker/overlay2/abc', 'is inside a system directory /var/lib/docker'],
  ['/proc/1/root', 'is inside a system directory /proc'],
  ['/dev/shm/x', 'is inside a system directory /dev'],
]));

test('spellings of the same path: trailing and repeated slashes, ".", ".."', (t) => cases(t,
  ['/etc/', '//etc//', '/srv/app/../../etc', '/./var/./lib', '/opt/app/..'].map((p) => [p, 'is a system directory'])));

test('a directory of the container\'s own is allowed, also below system directories', (t) => {
  for (const p of ['/srv/app', '/opt/app/data', '/home/alice/site', '/var/lib/migrate/bind-test.abc', '/etc/nginx', '/tmp/x', '/data/app', '/mnt/disk1/app']) {
    t.is(reason(p), undefined, p);
  }
  t.is(systemPathReason('/data', protectedPaths()), undefined, 'without a data root under it, /data is just a directory');
});

test('on a host: a path that resolves to a system directory there (symlink) is refused, naming both', async (t) => {
  const dir = scratchDir(t, 'syspath');
  mkdirSync(join(dir, 'own'));
  symlinkSync('/etc', join(dir, 'etc-link'));
  symlinkSync('/usr/share/doc', join(dir, 'deep'));
  const local = new LocalTransport();
  await t.notThrowsAsync(refuseSystemPaths(local, [join(dir, 'own'), join(dir, 'missing')], {}, 'target', true));
  const e = await t.throwsAsync(refuseSystemPaths(local, [join(dir, 'own'), join(dir, 'etc-link')], {}, 'target', true));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.is(isMigrateError(e) ? e.message.split('\n')[0] : '',
    `--copy-bind-mounts --force would delete what the target holds at bind mount ${dir}/etc-link (which resolves to /etc there), which is a system directory on local`);
  t.regex(String(await t.throwsAsync(refuseSystemPaths(local, [join(dir, 'etc-link')], {}, 'target', false))), /would copy the container's files onto bind mount/);
  // Spelled, `deep/..` is the temporary directory; resolved, it is /usr/share.
  const up = await t.throwsAsync(refuseSystemPaths(local, [`${dir}/deep/..`], {}, 'source', false));
  t.regex(String(up), /would copy the host's own files to the target from bind mount \S+\/deep\/\.\. \(which resolves to \/usr\/share there\), which is a system directory \(in \/usr\) on local/);
});
