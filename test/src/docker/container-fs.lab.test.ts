/**
 * A container's files migrate with it: its writable layer, its volumes, its tmpfs mounts and
 * /dev/shm (CRIU's images), copied bind mounts; and preflight refuses what would lose or
 * overwrite data before anything is frozen.
 */
import test, { type ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../../transports/transport.js';
import { migrateDockerContainer } from '../../../src/migration/docker.js';
import { isMigrateError } from '../../../transports/errors.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { continuous } from '../../helpers/workload.js';
import { exists, removeEverywhere, running } from '../../helpers/containers.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));

let n = 0;
const names: string[] = [];
const volumes: string[] = [];
test.after.always(async () => {
  for (const name of names) await removeEverywhere(name, a, b);
  for (const v of volumes) for (const h of [a, b]) await h.exec(['docker', 'volume', 'rm', '-f', v], { allowFailure: true });
  await b.close();
});

/**
 * Appends the next number to /var/log/app every 50 ms through fd 3, which it keeps open; before
 * that, it deletes /etc/passwd (a file of the image) and writes into its tmpfs mounts.
 */
const APPENDER = 'rm /etc/passwd; echo shm-data > /dev/shm/s; echo run-data > /run/t; mkdir -p /var/log; ' +
  'exec 3>>/var/log/app; i=0; while :; do echo $i >&3; i=$((i+1)); usleep 50000; done';

async function startShell(t: Transport, script: string, args: string[] = []): Promise<string> {
  const name = `fs-${process.pid}-${++n}`;
  names.push(name);
  await t.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--tmpfs', '/run', ...args,
    '--entrypoint', '/bin/sh', lab.image, '-c', script]);
  return name;
}

const inside = async (t: Transport, name: string, script: string) =>
  (await t.exec(['docker', 'exec', name, 'sh', '-c', script])).stdout;

const numbers = async (t: Transport, name: string, file = '/var/log/app') =>
  (await inside(t, name, `cat ${file}`)).split('\n').filter(Boolean).map(Number);

async function waitForLines(t: Transport, name: string, count: number, file = '/var/log/app'): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await numbers(t, name, file).catch(() => [])).length >= count) return;
    await sleep(100);
  }
  throw new Error(`${name} did not write ${count} lines to ${file}`);
}

/** The file holds 0, 1, 2, ... without gap or repeat, and the process still appends to it. */
async function assertAppending(t: ExecutionContext, h: Transport, name: string, file = '/var/log/app'): Promise<void> {
  const first = await numbers(h, name, file);
  await sleep(400);
  const later = await numbers(h, name, file);
  t.is(first[0], 0);
  t.true(continuous(later), `no gap, no repeat in ${file} on ${h.name}`);
  t.true(later.length > first.length, `the process goes on appending on ${h.name}`);
  t.is((await inside(h, name, 'readlink /proc/1/fd/3')).trim(), file, 'through the same file');
}

test.serial('a container appending to a file in its writable layer through an open descriptor migrates A → B → A (back with post-copy)', async (t) => {
  const name = await startShell(a, APPENDER);
  await waitForLines(a, name, 5);
  const there = await migrateDockerContainer({ container: name, source: a, target: b });
  t.is(there.outcome, 'migrated', JSON.stringify(there.error));
  await assertAppending(t, b, name);
  t.is((await inside(b, name, 'cat /dev/shm/s /run/t')).trim(), 'shm-data\nrun-data', '/dev/shm and --tmpfs contents came with the images');
  t.is((await inside(b, name, 'test -e /etc/passwd && echo present || echo deleted')).trim(), 'deleted', 'a deleted file stays deleted');
  t.truthy(there.bytes.filesystem);
  t.true(there.filesystem!.some((f) => f.tree === 'writable layer' && f.frozen !== undefined));

  const back = await migrateDockerContainer({ container: name, source: b, target: a, strategy: 'postcopy' });
  t.is(back.outcome, 'migrated', JSON.stringify(back.error));
  t.false(await exists(b, name));
  await assertAppending(t, a, name);
  t.is((await inside(a, name, 'test -e /etc/passwd && echo present || echo deleted')).trim(), 'deleted');
  t.log(`A → B frozen files ${there.phases_ms.filesystem} ms of ${there.freeze_ms} ms; B → A ${back.phases_ms.filesystem} ms of ${back.freeze_ms} ms`);
});

/**
 * Churns its writable layer as fast as a shell can: writes /spool/tmp.N and deletes tmp.(N-20),
 * makes a directory every 100 files and deletes the one from 200 files before, and keeps every
 * 1000th file as keep.N.
 */
const CHURNER = 'mkdir -p /spool; i=0; while :; do i=$((i+1)); echo $i > /spool/tmp.$i; rm -f /spool/tmp.$((i-20)); ' +
  'if [ $((i % 100)) = 0 ]; then mkdir /spool/d.$i; echo $i > /spool/d.$i/f; rm -rf /spool/d.$((i-200)); fi; ' +
  'if [ $((i % 1000)) = 0 ]; then echo $i > /spool/keep.$i; fi; done';

test.serial('a container creating and deleting thousands of files during the whole migration arrives with exactly the files it had', async (t) => {
  const name = await startShell(a, CHURNER);
  const highest = async (h: Transport) => Number((await inside(h, name, 'ls /spool | sed -n "s/^tmp\\.//p" | sort -n | tail -n 1')).trim());
  for (let i = 0; i < 100 && (await highest(a).catch(() => 0)) < 2000; i++) await sleep(100);
  const report = await migrateDockerContainer({ container: name, source: a, target: b });
  t.is(report.outcome, 'migrated', JSON.stringify(report.error));
  // Stop it on B at once and read its layer from the host: what it holds must fit one moment of the loop.
  await b.exec(['docker', 'pause', name]);
  const upper = (await b.exec(['docker', 'inspect', '--format', '{{.GraphDriver.Data.UpperDir}}', name])).stdout.trim();
  const entries = (await b.exec(['ls', `${upper}/spool`])).stdout.split('\n').filter(Boolean);
  await b.exec(['docker', 'unpause', name]);
  const nums = (prefix: string) => entries.filter((e) => e.startsWith(prefix)).map((e) => Number(e.slice(prefix.length))).sort((x, y) => x - y);
  const tmp = nums('tmp.');
  const m = tmp[tmp.length - 1]!;
  t.true(m > 2000, `it churned ${m} files`);
  t.deepEqual(tmp.filter((k) => k < m - 20), [], 'no file it had deleted came back (stale copies)');
  t.deepEqual(tmp.filter((k) => k >= m - 19), Array.from({ length: 20 }, (_, i) => m - 19 + i), 'no file it had is missing');
  t.deepEqual(nums('d.').filter((k) => k <= m - 300), [], 'no directory it had deleted came back');
  t.deepEqual(nums('keep.'), Array.from({ length: Math.floor(m / 1000) }, (_, i) => (i + 1) * 1000), 'every kept file is there');
  t.log(`${m} files churned; frozen pass: ${JSON.stringify(report.filesystem?.map((f) => f.frozen))}`);
});

test.serial('named and anonymous volumes reach the target (--volume-map renames one); the process keeps writing into the volume', async (t) => {
  const vol = `fsvol-${process.pid}-${++n}`;
  const mapped = `${vol}-on-b`;
  volumes.push(vol, mapped);
  const name = await startShell(a,
    'echo kept > /data/before; while [ ! -e /data/gone ]; do usleep 50000; done; rm /data/gone; echo anon > /anon/f; exec 3>>/data/app; i=0; while :; do echo $i >&3; i=$((i+1)); usleep 50000; done',
    ['-v', `${vol}:/data`, '-v', '/anon']);
  await inside(a, name, 'true');
  await a.exec(['sh', '-c', 'echo x > "$(docker volume inspect -f "{{.Mountpoint}}" "$1")/gone"', 'seed', vol]);
  await waitForLines(a, name, 5, '/data/app');
  const r = await migrateDockerContainer({ container: name, source: a, target: b, volumeMap: new Map([[vol, mapped]]) });
  t.is(r.outcome, 'migrated', JSON.stringify(r.error));
  await sleep(300);
  const onB = await numbers(b, name, '/data/app');
  t.true(continuous(onB) && onB[0] === 0 && onB.length > 5);
  t.is((await inside(b, name, 'cat /data/before /anon/f; ls /data')).trim(), 'kept\nanon\napp\nbefore');
  const mounts = (await b.exec(['docker', 'inspect', '-f', '{{range .Mounts}}{{.Name}}={{.Destination}} {{end}}', name])).stdout;
  t.true(mounts.includes(`${mapped}=/data`), mounts);
  t.true(r.filesystem!.some((f) => f.tree === `volume ${vol}`) && r.filesystem!.some((f) => f.tree === 'volume /anon'));
  t.is((await a.exec(['docker', 'volume', 'inspect', vol], { allowFailure: true })).exitCode, 0, 'the source keeps its volume (as docker rm does)');
});

test.serial('a target volume holding other data is refused before anything is frozen; --force replaces its contents', async (t) => {
  const vol = `fsvol-${process.pid}-${++n}`;
  volumes.push(vol);
  await b.exec(['sh', '-c', 'docker volume create "$1" >/dev/null && echo theirs > "$(docker volume inspect -f "{{.Mountpoint}}" "$1")/b-only"', 'seed', vol]);
  const name = await startShell(a, 'echo ours > /data/a; exec 3>>/var/log/app; i=0; while :; do echo $i >&3; i=$((i+1)); usleep 50000; done', ['-v', `${vol}:/data`]);
  await waitForLines(a, name, 3);
  const e = await t.throwsAsync(migrateDockerContainer({ container: name, source: a, target: b }));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(String(e), /already has a volume .* other data/);
  t.regex(isMigrateError(e) ? e.hint ?? '' : '', /--volume-map/);
  t.false(await exists(b, name), 'nothing was created on B');
  const before = (await numbers(a, name)).length;
  await sleep(300);
  t.true((await numbers(a, name)).length > before, 'it never stopped on A');

  const r = await migrateDockerContainer({ container: name, source: a, target: b, force: true });
  t.is(r.outcome, 'migrated', JSON.stringify(r.error));
  t.is((await inside(b, name, 'ls /data; cat /data/a')).trim(), 'a\nours');
});

test.serial('a bind mount whose source is missing on the target is refused before anything is frozen; --copy-bind-mounts copies it', async (t) => {
  // /var/lib/migrate is private to each lab host (a shared path would be the same directory).
  const dir = (await a.exec(['mktemp', '-d', '/var/lib/migrate/bind-test.XXXXXX'])).stdout.trim();
  t.teardown(async () => { for (const h of [a, b]) await h.exec(['rm', '-rf', dir]); });
  await a.exec(['sh', '-c', 'echo config > "$1/conf"; chmod 0751 "$1"', 'seed', dir]);
  const name = await startShell(a, APPENDER, ['-v', `${dir}:/etc/app`]);
  await waitForLines(a, name, 3);
  const e = await t.throwsAsync(migrateDockerContainer({ container: name, source: a, target: b }));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(String(e), /bind mount source .* does not exist on the target/);
  t.is(await running(a, name), 'true');
  t.false(await exists(b, name));

  const r = await migrateDockerContainer({ container: name, source: a, target: b, copyBindMounts: true });
  t.is(r.outcome, 'migrated', JSON.stringify(r.error));
  t.is((await inside(b, name, 'cat /etc/app/conf')).trim(), 'config');
  t.is((await b.exec(['stat', '-c', '%a', dir])).stdout.trim(), '751');
  await assertAppending(t, b, name);
});

test.serial('a 200 MiB writable layer with 1 MiB changing: the freeze carries about 1 MiB of files, not 200', async (t) => {
  const name = await startShell(a,
    'dd if=/dev/urandom of=/big bs=1M count=200 2>/dev/null; touch /ready; exec 3>>/var/log/app; i=0; ' +
    'while :; do dd if=/dev/urandom of=/hot bs=1M count=1 conv=notrunc 2>/dev/null; echo $i >&3; i=$((i+1)); usleep 100000; done');
  // conv=notrunc: /hot is 1 MiB at every instant. Truncating first let a freeze land between dd's
  // truncate and its write (CI did: 209 bytes frozen, correctly, for an empty /hot).
  for (let i = 0; i < 100 && (await inside(a, name, 'test -e /ready && echo y || true')).trim() !== 'y'; i++) await sleep(200);
  await sleep(1500); // the big file is then older than the first listing's racy margin
  const r = await migrateDockerContainer({ container: name, source: a, target: b });
  t.is(r.outcome, 'migrated', JSON.stringify(r.error));
  const fs = r.bytes.filesystem!;
  t.true(fs.before_freeze >= 200 * 2 ** 20, `before the freeze: ${fs.before_freeze}`);
  t.true(fs.frozen >= 2 ** 20 - 4096 && fs.frozen < 3 * 2 ** 20, `while frozen: ${fs.frozen}`);
  t.is((await b.exec(['docker', 'exec', name, 'sh', '-c', 'wc -c < /big'])).stdout.trim(), String(200 * 2 ** 20));
  await assertAppending(t, b, name);
  t.log(`files: ${JSON.stringify(fs)}; phases ${JSON.stringify(r.phases_ms)}; freeze ${r.freeze_ms} ms`);
});

test.serial('a failure after the freeze leaves the source container running with its files untouched, and B without its volume', async (t) => {
  const vol = `fsvol-${process.pid}-${++n}`;
  volumes.push(vol);
  const name = await startShell(a, 'echo v > /data/v; ' + APPENDER, ['-v', `${vol}:/data`]);
  await waitForLines(a, name, 3);
  const r = await migrateDockerContainer({
    container: name, source: a, target: b,
    faults: { beforeRestore: async () => { throw new Error('injected: restore refused'); } },
  });
  t.is(r.outcome, 'rolled-back');
  t.is(r.runs_on, 'source');
  t.truthy(r.bytes.filesystem, 'the files had been copied');
  t.false(await exists(b, name));
  t.not((await b.exec(['docker', 'volume', 'inspect', vol], { allowFailure: true })).exitCode, 0, 'the volume made for it on B is gone');
  await assertAppending(t, a, name);
  t.is((await inside(a, name, 'cat /data/v; test -e /etc/passwd || echo deleted')).trim(), 'v\ndeleted');
});

/**
 * Preflight of --copy-bind-mounts --force with `-v SYSTEM_DIR:...`, first as a dry run: had
 * preflight let it through, the real run would empty that directory on B (in this lab B's /etc is
 * A's), so the test stops there. Returns the real run's error.
 */
async function refusedBeforeFreeze(t: ExecutionContext, name: string): Promise<unknown> {
  const o = { container: name, source: a, target: b, copyBindMounts: true, force: true };
  const dry = await migrateDockerContainer({ ...o, dryRun: true }).then((r) => `not refused: ${r.outcome}`, (e: unknown) => e);
  if (!isMigrateError(dry, 'PREFLIGHT')) throw new Error(`preflight let the dry run through (${String(dry)}); the real run was not attempted`);
  const e = await t.throwsAsync(migrateDockerContainer(o));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.is(await running(a, name), 'true', 'never frozen');
  t.false(await exists(b, name), 'nothing was created on B');
  return e;
}

/** Names, owners, modes and sizes of a directory's entries: changes if anything in it was deleted or replaced. */
const snapshot = async (h: Transport, dir: string) => (await h.exec(['sh', '-c', 'find "$1" -xdev -maxdepth 2 -printf "%p %u %m %s\\n" | sort | sha256sum', 'snap', dir])).stdout;

test.serial('--copy-bind-mounts --force refuses system directories before anything is frozen: -v /etc:/host-etc, and a path that is a symlink to /srv on B only; B\'s /etc and /srv are untouched', async (t) => {
  const etc = await startShell(a, APPENDER, ['-v', '/etc:/host-etc:ro']);
  await waitForLines(a, etc, 3);
  const etcBefore = await snapshot(b, '/etc');
  const e = await refusedBeforeFreeze(t, etc);
  t.regex(String(e), /--copy-bind-mounts would copy the host's own files to the target from bind mount \/etc, which is a system directory on local/);
  t.regex(isMigrateError(e) ? e.hint ?? '' : '', /directory of the container's own/);
  t.is(await snapshot(b, '/etc'), etcBefore, "B's /etc is as it was");
  await assertAppending(t, a, etc);

  // A's and B's /var/lib/migrate are their own: on A a real directory, on B a symlink to /srv.
  const dir = (await a.exec(['mktemp', '-d', '/var/lib/migrate/bind-link.XXXXXX'])).stdout.trim();
  t.teardown(async () => { for (const h of [a, b]) await h.exec(['rm', '-rf', dir]); });
  await a.exec(['sh', '-c', 'echo config > "$1/conf"', 'seed', dir]);
  await b.exec(['ln', '-s', '/srv', dir]);
  const srvBefore = await snapshot(b, '/srv');
  const linked = await startShell(a, APPENDER, ['-v', `${dir}:/etc/app`]);
  await waitForLines(a, linked, 3);
  const e2 = await refusedBeforeFreeze(t, linked);
  t.regex(String(e2), new RegExp(`--force would delete what the target holds at bind mount ${dir} \\(which resolves to /srv there\\), which is a system directory on root@`));
  t.is(await snapshot(b, '/srv'), srvBefore, "B's /srv is as it was");
  await assertAppending(t, a, linked);
});

test.serial('a container swapping a directory for a symlink to a host directory while it is copied: no file of the host reaches the target (issue 18, item 2)', async (t) => {
  const canary = `/var/tmp/migrate-canary-${process.pid}`;
  const secret = `canary-${process.pid}-${Date.now()}`;
  await a.exec(['sh', '-c', 'mkdir -p "$1" && for f in f g h; do echo "$2" > "$1/$f"; done', 'canary', canary, secret]);
  // Its own /s/d holds f, g and h too; as fast as a shell can, it renames d away and puts a
  // symlink to the host's canary directory in its place, then puts d back.
  const name = await startShell(a, `mkdir -p /s/d; for f in f g h; do echo own > /s/d/$f; done; while :; do mv /s/d /s/d.x; ln -s ${canary} /s/d; rm /s/d; mv /s/d.x /s/d; done`);
  try {
    for (let i = 0; i < 50 && !(await inside(a, name, 'ls /s 2>/dev/null; true')).includes('d'); i++) await sleep(100);
    for (let round = 0; round < 3; round++) {
      const report = await migrateDockerContainer({ container: name, source: a, target: b });
      t.is(report.outcome, 'migrated', JSON.stringify(report.error));
      const upper = (await b.exec(['docker', 'inspect', '--format', '{{.GraphDriver.Data.UpperDir}}', name])).stdout.trim();
      const leaked = await b.exec(['grep', '-rl', '--', secret, upper], { allowFailure: true });
      t.is(leaked.stdout, '', `round ${round}: no file on B holds the host's canary`);
      // It goes on renaming on B: one look may fall between its renames (d gone, d.x back to d): look again.
      const own = await inside(b, name, 'for i in $(seq 50); do o=$(cat /s/d/f /s/d.x/f 2>/dev/null | head -n 1); [ "$o" = own ] && break; done; echo "$o"');
      if (!/^own$/m.test(own)) t.log(`round ${round}: on B: ${await inside(b, name, 'ls -laR /s 2>&1; true')}; frozen pass: ${JSON.stringify(report.filesystem)}`);
      t.regex(own, /^own$/m, 'its own files arrived');
      const back = await migrateDockerContainer({ container: name, source: b, target: a });
      t.is(back.outcome, 'migrated', JSON.stringify(back.error));
      const upperA = (await a.exec(['docker', 'inspect', '--format', '{{.GraphDriver.Data.UpperDir}}', name])).stdout.trim();
      t.is((await a.exec(['grep', '-rl', '--', secret, upperA], { allowFailure: true })).stdout, '', `round ${round}: nor back on A`);
    }
  } finally {
    await a.exec(['rm', '-rf', canary]);
  }
});
