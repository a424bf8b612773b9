/**
 * remove-restore-copies.sh removes containerd's copies of a restored checkpoint, known by the
 * modification time of their descriptors.json, and nothing else named like them. The copies here
 * are made by hand in /tmp (containerd's temp dir on this machine); the stamps are random, so no
 * real copy can match. Serial: each call also sweeps old stamped copies, the other test's too.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalTransport } from '../../../transports/local.js';
import { removeRestoreCopies, restoreStamp, STAMPS } from '../../../src/docker/restore-copies.js';

const local = new LocalTransport();

/** A directory named as containerd names its copies, holding a descriptors.json modified at `mtimeS`. */
async function copy(mtimeS: number, file = 'descriptors.json'): Promise<string> {
  const dir = await mkdtemp('/tmp/ctrd-checkpoint');
  await writeFile(join(dir, file), '["/dev/null","/dev/null","/dev/null"]');
  await utimes(join(dir, file), mtimeS, mtimeS);
  return dir;
}

test.serial('the copies with the stamp are removed; other copies, a copy without descriptors.json and a symlink named like one stay', async (t) => {
  const stamp = restoreStamp();
  const mine = [await copy(stamp), await copy(stamp)];
  const other = await copy(stamp + 1);
  const noDescriptors = await copy(stamp, 'pages-1.img');
  const target = await mkdtemp('/tmp/migrate-test-');
  await mkdir(join(target, 'x'));
  await writeFile(join(target, 'descriptors.json'), '[]');
  await utimes(join(target, 'descriptors.json'), stamp, stamp);
  const link = `/tmp/ctrd-checkpoint-link-${process.pid}`;
  await symlink(target, link);
  t.teardown(() => Promise.all([other, noDescriptors, target, link, ...mine].map((d) => rm(d, { recursive: true, force: true }))));

  t.is(await removeRestoreCopies(local, stamp), 2);
  for (const d of mine) t.false(existsSync(d), `${d} removed`);
  for (const d of [other, noDescriptors, link, join(target, 'descriptors.json')]) t.true(existsSync(d), `${d} kept`);
  t.is(await removeRestoreCopies(local, stamp), 0, 'none left the second time');
});

test.serial('copies another run stamped and left over 10 minutes ago go too; a younger one, or an old one not stamped by migrate, stays', async (t) => {
  const stamp = restoreStamp();
  const other = stamp === STAMPS.first ? stamp + 1 : stamp - 1;
  const left = await copy(other);
  const young = await copy(other);
  const foreign = await copy(STAMPS.first - 1);
  const old = (Date.now() - 20 * 60_000) / 1000;
  for (const d of [left, foreign]) await utimes(d, old, old);
  t.teardown(() => Promise.all([left, young, foreign].map((d) => rm(d, { recursive: true, force: true }))));

  t.is(await removeRestoreCopies(local, stamp), 1);
  t.false(existsSync(left), 'a dead run\'s copy is removed');
  t.true(existsSync(young), 'a copy that may be a restore under way stays');
  t.true(existsSync(foreign), 'an old copy migrate did not stamp stays');
});

test.serial('copies are looked for in each containerd\'s XDG_RUNTIME_DIR, else its TMPDIR', async (t) => {
  // Two processes named containerd (sleep under that name), each with its own environment.
  const bin = await mkdtemp('/tmp/migrate-test-bin-');
  const [xdg, tmp, ignored] = [await mkdtemp('/tmp/migrate-test-xdg-'), await mkdtemp('/tmp/migrate-test-tmp-'), await mkdtemp('/tmp/migrate-test-ignored-')];
  await copyFile('/bin/sleep', join(bin, 'containerd'));
  const kids = [
    spawn(join(bin, 'containerd'), ['60'], { env: { XDG_RUNTIME_DIR: xdg, TMPDIR: ignored }, stdio: 'ignore' }),
    spawn(join(bin, 'containerd'), ['60'], { env: { TMPDIR: tmp }, stdio: 'ignore' }),
  ];
  t.teardown(async () => {
    for (const k of kids) k.kill();
    await Promise.all([bin, xdg, tmp, ignored].map((d) => rm(d, { recursive: true, force: true })));
  });
  await Promise.all(kids.map((k) => new Promise((r) => k.once('spawn', r))));
  const stamp = restoreStamp();
  const inDir = async (dir: string) => {
    const d = await mkdtemp(join(dir, 'ctrd-checkpoint'));
    await writeFile(join(d, 'descriptors.json'), '[]');
    await utimes(join(d, 'descriptors.json'), stamp, stamp);
    return d;
  };
  const [a, b, c] = [await inDir(xdg), await inDir(tmp), await inDir(ignored)];

  t.is(await removeRestoreCopies(local, stamp), 2);
  t.false(existsSync(a), 'in XDG_RUNTIME_DIR: removed');
  t.false(existsSync(b), 'in TMPDIR (no XDG_RUNTIME_DIR): removed');
  t.true(existsSync(c), 'a TMPDIR that XDG_RUNTIME_DIR overrides is not looked in');
});
