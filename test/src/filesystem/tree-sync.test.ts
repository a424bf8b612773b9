/**
 * Copies real trees between two directories of this machine through the same shell scripts
 * (GNU tar, zstd, sha256sum) a migration runs on two hosts; LocalTransport stands in for SSH.
 */
import test from 'ava';
import { execa } from 'execa';
import { LocalTransport } from '../../../transports/local.js';
import { TreeSync } from '../../../src/filesystem/tree-sync.js';
import { removeFromTree, sendTree } from '../../../src/filesystem/tree-stream.js';
import { hostScript } from '../../../src/host-scripts/index.js';
import { listTree } from '../../../src/filesystem/listing.js';
import { isMigrateError } from '../../../transports/errors.js';

const local = new LocalTransport();
const sh = async (script: string, ...args: string[]) => (await execa('bash', ['-c', script, 'test', ...args])).stdout;

async function scratch(): Promise<string> {
  return sh('mktemp -d /var/tmp/migrate-fs-test.XXXXXX');
}

/** Everything find and getfattr say about a tree, minus access times and inode numbers. */
async function describe(root: string): Promise<string> {
  return sh('cd "$1" && find . -printf "%y %m %U:%G %s %T@ %n %p -> %l\\n" | sort && getfattr -R -h -d -m - . 2>/dev/null | sort', root);
}

async function sample(dir: string): Promise<void> {
  await sh(`set -e; cd "$1"
    mkdir -p etc var/log opaque
    printf 'hello' > etc/motd; chmod 640 etc/motd; chown 1234:5678 etc/motd
    head -c 300000 /dev/urandom > var/log/app
    ln var/log/app var/log/app.hardlink
    ln -s ../etc/motd var/motd-link
    ln -s /etc/passwd abs-link
    mknod etc/passwd c 0 0
    setfattr -n trusted.overlay.opaque -v y opaque
    setfattr -n user.note -v 'kept' etc/motd
    mkfifo var/fifo
    truncate -s 10M sparse
    touch -d '2001-02-03 04:05:06' etc
    chmod 0755 .`, dir);
}

test('a tree arrives whole: modes, owners, hard links, symlinks, whiteouts, xattrs, fifos, sparse files', async (t) => {
  const [a, b] = [await scratch(), await scratch()];
  await sample(a);
  const sync = new TreeSync('layer', local, a, local, b);
  const first = await sync.beforeFreeze();
  sync.close(); // no frozen pass follows: stop the stream it started for one (it would keep this process alive)
  t.is(await describe(b), await describe(a));
  t.true(first.bytes >= 300005, `bytes ${first.bytes}`);
  t.is(await sh('stat -c %i "$1/var/log/app"', b), await sh('stat -c %i "$1/var/log/app.hardlink"', b));
  t.true(Number(await sh('du -k "$1/sparse" | cut -f1', b)) < 1000, 'sparse stays sparse');
  await sh('rm -rf "$1" "$2"', a, b);
});

test('the frozen pass sends only what changed and removes what went away', async (t) => {
  const [a, b] = [await scratch(), await scratch()];
  await sample(a);
  await sh('cd "$1" && mkdir big && for i in $(seq 20); do head -c 1000000 /dev/urandom > big/$i; done', a);
  const sync = new TreeSync('layer', local, a, local, b);
  await new Promise((r) => setTimeout(r, 1100)); // out of the racy window of the first listing
  const first = await sync.beforeFreeze();
  t.true(first.bytes > 20_000_000);
  await new Promise((r) => setTimeout(r, 1100));
  await sh('cd "$1" && echo more >> var/log/app && rm -r opaque big/7 && mkdir opaque2 && echo new > opaque2/f && chmod 600 etc/motd', a);
  const second = await sync.whileFrozen();
  t.is(await describe(b), await describe(a));
  t.true(second.bytes < 400_000, `frozen pass sent ${second.bytes} bytes`);
  t.is(second.removed, 2);
  await sh('rm -rf "$1" "$2"', a, b);
});

test('a corrupted stream is caught by the digests', async (t) => {
  const [a, b] = [await scratch(), await scratch()];
  await sh('head -c 2000000 /dev/urandom > "$1/f"', a);
  const names = [...(await listTree(local, a)).entries.keys()];
  const e = await t.throwsAsync(sendTree(local, a, local, b, names, {
    level: 1, tamper: (chunk, offset) => { if (offset === 0 && chunk.length > 5000) { const c = Buffer.from(chunk); c[4000] = c[4000]! ^ 1; return c; } return chunk; },
  }));
  t.true(isMigrateError(e, 'TRANSFER_FAILED'), String(e));
  await sh('rm -rf "$1" "$2"', a, b);
});

test('extraction writes nothing outside the target: not through a symlink, not with ..', async (t) => {
  const [a, b, c, outside] = [await scratch(), await scratch(), await scratch(), await scratch()];
  // A hostile archive: a symlink "esc" to a directory outside, then "esc/evil"; and "../up".
  await sh('set -e; ln -s "$3" "$1/esc"; mkdir -p "$2/esc"; echo bad > "$2/esc/evil"; echo bad > "$2/up"', a, b, outside);
  await sh(`set -e; { tar -cf - -C "$1" esc -C "$2" esc/evil; } > "$4/one.tar"
    tar -cf - -C "$2" --transform 's,^up,../up,' up > "$4/two.tar"
    for f in one two; do zstd -q -c "$4/$f.tar" | "\${@:5}" || true; done`, a, b, c, outside, ...hostScript('receive-tar', `${c}/dst`, 'tree'));
  t.is(await sh('ls -A "$1" | grep -v tar || true', outside), '');
  t.is(await sh('ls -A "$1" | grep -v dst || true', c), '');
  await sh('rm -rf "$1" "$2" "$3" "$4"', a, b, c, outside);
});

test('removals refuse a path through a symlink and name what they refused', async (t) => {
  const [root, outside] = [await scratch(), await scratch()];
  await sh('set -e; echo keep > "$2/precious"; ln -s "$2" "$1/link"; echo x > "$1/plain"', root, outside);
  await removeFromTree(local, root, ['plain', 'missing/too']);
  t.is(await sh('ls -A "$1"', root), 'link');
  const e = await t.throwsAsync(removeFromTree(local, root, ['link/precious']));
  t.regex(String(isMigrateError(e) ? e.stderr : e), /symlink is on its path/);
  t.is(await sh('cat "$1/precious"', outside), 'keep');
  await t.throwsAsync(removeFromTree(local, root, ['../x']), { message: /not a safe relative name/ });
  await sh('rm -rf "$1" "$2"', root, outside);
});

test('before the freeze an entry that vanished since the listing is skipped; frozen, it is an error', async (t) => {
  const [a, b] = [await scratch(), await scratch()];
  await sh('cd "$1" && echo kept > kept', a);
  await sendTree(local, a, local, b, ['kept', 'gone', 'gone-dir/x'], { changing: true });
  t.is(await sh('cd "$1" && find . | sort', b), '.\n./kept');
  const e = await t.throwsAsync(sendTree(local, a, local, b, ['kept', 'gone']));
  t.true(isMigrateError(e, 'TRANSFER_FAILED'), String(e));
  t.regex(e!.message, /gone/);
  await sh('rm -rf "$1" "$2"', a, b);
});

test('a tree churning thousands of files during the running copy arrives exactly as it was when frozen', async (t) => {
  const a = await scratch();
  // Temp files, a spool and directories that come and go (what caches, lock files and rotated
  // logs do), as fast as a shell can make them.
  const churn = execa('bash', ['-c', `cd "$1"; mkdir -p spool; i=0
    while :; do
      i=$((i+1)); echo $i > spool/tmp.$i; rm -f spool/tmp.$((i-20))
      if [ $((i % 50)) = 0 ]; then mkdir -p d.$i && echo x > d.$i/f; rm -rf d.$((i-100)); fi
      if [ $((i % 77)) = 0 ]; then rm -rf flip; if [ $((i % 2)) = 0 ]; then mkdir flip; else echo f > flip; fi; fi
    done`, 'churn', a]);
  churn.catch(() => {});
  try {
    await new Promise((r) => setTimeout(r, 300));
    const created = async () => Number(await sh('ls "$1"/spool | sort -t. -k2 -n | tail -n 1 | cut -d. -f2', a));
    // One migration's two passes at a time, into a fresh target, until a thousand files came and went.
    for (let i = 0; i < 30 && (i < 3 || (await created()) < 1000); i++) {
      const b = await scratch();
      const sync = new TreeSync('layer', local, a, local, b);
      await sync.beforeFreeze(); // races the churn
      churn.kill('SIGSTOP'); // "frozen"
      await new Promise((r) => setTimeout(r, 50));
      await sync.whileFrozen();
      t.is(await describe(b), await describe(a), `pass ${i}`);
      await sh('rm -rf "$1"', b);
      churn.kill('SIGCONT');
    }
    t.true((await created()) >= 1000, `only ${await created()} files churned`);
  } finally {
    churn.kill('SIGKILL');
    await sh('rm -rf "$1"', a);
  }
});

test('a directory renamed away and back while the running copy reads it: its files arrive in the frozen pass', async (t) => {
  const a = await scratch();
  await sh('cd "$1" && mkdir -p s/d && for i in $(seq 20); do echo own$i > s/d/f$i; done', a);
  // As fast as a shell can: d is d.x for a moment, then d again, with the same inodes and times.
  const churn = execa('bash', ['-c', 'cd "$1/s"; while :; do mv d d.x; mv d.x d; done', 'churn', a], { detached: true });
  const signal = (s: NodeJS.Signals) => process.kill(-churn.pid!, s); // the loop and the mv it runs: frozen together
  churn.catch(() => {});
  try {
    for (let i = 0; i < 40; i++) {
      const b = await scratch();
      const sync = new TreeSync('layer', local, a, local, b);
      await sync.beforeFreeze(); // races the renames
      signal('SIGSTOP'); // "frozen"
      await new Promise((r) => setTimeout(r, 20));
      await sync.whileFrozen();
      t.is(await describe(b), await describe(a), `pass ${i}`);
      await sh('rm -rf "$1"', b);
      signal('SIGCONT');
    }
  } finally {
    signal('SIGKILL');
    await sh('rm -rf "$1"', a);
  }
});
