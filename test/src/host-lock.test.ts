import test from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTransport } from '../../transports/local.js';
import { LOCK_DIR, lockHost, lockInPrivateDir } from '../../src/host-lock.js';
import { TreeAdapter } from '../../src/migration/kinds/tree.js';
import { isMigrateError } from '../../transports/errors.js';
import { scratchDir } from '../helpers/scratch.js';

const local = new LocalTransport();

test('a held lock says LOCKED; once released it can be taken again', async (t) => {
  const path = join(scratchDir(t, 'lock'), 'x.lock');
  const first = await lockHost(local, path, 'thing');
  const e = await t.throwsAsync(lockHost(local, path, 'thing'));
  t.true(isMigrateError(e, 'LOCKED'), String(e));
  await first.release();
  await (await lockHost(local, path, 'thing')).release();
});

test('a directory lock (runc.conf\'s /etc/criu) is made a directory when missing, not a file, and locks as a file lock does', async (t) => {
  const path = join(scratchDir(t, 'lock'), 'criu');
  const first = await lockHost(local, path, 'runc.conf', 0, { dir: true });
  t.true(statSync(path).isDirectory());
  const e = await t.throwsAsync(lockHost(local, path, 'runc.conf', 0, { dir: true }));
  t.true(isMigrateError(e, 'LOCKED'), String(e));
  await first.release();
  await (await lockHost(local, path, 'runc.conf', 0, { dir: true })).release();
});

test('a lock that cannot be taken at all is not reported as held by another run', async (t) => {
  const e = await t.throwsAsync(lockHost(local, '/nonexistent-dir-for-migrate/x.lock', 'thing'));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(isMigrateError(e) ? e.hint ?? '' : '', /\/nonexistent-dir-for-migrate exists and is writable/);
});

test('a workload is locked under /run/migrate/locks (root\'s alone), not in world-writable /run/lock', async (t) => {
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => sleeper.kill());
  const facts = await new TreeAdapter({ source: local, target: local, pid: sleeper.pid! }).inspect();
  t.is(LOCK_DIR, '/run/migrate/locks');
  t.is(facts.lockPath, `/run/migrate/locks/pid-${sleeper.pid}.lock`);
});

test('a missing lock directory is made 0700; the lock works in it as before', async (t) => {
  const dir = join(scratchDir(t, 'lock'), 'run', 'locks');
  const first = await lockInPrivateDir(local, join(dir, 'w.lock'), 'workload w');
  t.is(statSync(dir).mode & 0o7777, 0o700);
  const e = await t.throwsAsync(lockInPrivateDir(local, join(dir, 'w.lock'), 'workload w'));
  t.true(isMigrateError(e, 'LOCKED'), String(e));
  await first.release();
  await (await lockInPrivateDir(local, join(dir, 'w.lock'), 'workload w')).release();
});

test('a lock directory another user could use is refused (PREFLIGHT) with what is wrong and the fix', async (t) => {
  const dir = join(scratchDir(t, 'lock'), 'locks');
  mkdirSync(dir, { mode: 0o700 });
  const refused = async (why: RegExp) => {
    const e = await t.throwsAsync(lockInPrivateDir(local, join(dir, 'w.lock'), 'workload w'));
    t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
    t.regex(String(e), why);
    return e as Error & { hint?: string };
  };
  chmodSync(dir, 0o1777);
  const e = await refused(new RegExp(`lock directory ${dir} is not root's alone: it is writable by group or others \\(owner root \\(uid 0\\), mode 01777\\) on local`));
  t.is(e.hint, `chown root:root ${dir} && chmod 0700 ${dir} there, after checking who else used it and what it holds`);
  chmodSync(dir, 0o755);
  await refused(/its mode is 0755, not 0700/);
  chmodSync(dir, 0o700);
  chownSync(dir, 65534, 65534);
  await refused(/owned by uid 65534, not root .*owner nobody/);
  rmSync(dir, { recursive: true });
  const real = `${dir}-real`;
  mkdirSync(real, { mode: 0o700 });
  symlinkSync(real, dir);
  t.regex((await refused(/it is a symbolic link/)).hint ?? '', /^remove .* there/);
});

test('a lock dies with the process that holds it (SIGKILL)', async (t) => {
  const path = join(scratchDir(t, 'lock'), 'locks', 'w.lock');
  const module = new URL('../../src/host-lock.js', import.meta.url).href;
  const transport = new URL('../../transports/local.js', import.meta.url).href;
  const holder = spawn(process.execPath, ['--input-type=module', '-e',
    `const { lockInPrivateDir } = await import(${JSON.stringify(module)}); const { LocalTransport } = await import(${JSON.stringify(transport)});
     await lockInPrivateDir(new LocalTransport(), ${JSON.stringify(path)}, 'w'); console.log('held'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  t.true(isMigrateError(await t.throwsAsync(lockInPrivateDir(local, path, 'w')), 'LOCKED'));
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  let lock;
  for (let i = 0; i < 50 && !lock; i++) lock = await lockInPrivateDir(local, path, 'w').catch(() => new Promise<undefined>((r) => setTimeout(r, 100)));
  t.truthy(lock, 'free again once its holder died');
  await lock?.release();
});
