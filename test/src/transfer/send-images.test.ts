/**
 * Sends directories of image files between two directories of this machine through the same code
 * and shell scripts a migration runs on two hosts: LocalTransport stands in for SSH, and a
 * LocalTransport that claims to be remote makes sendImages relay (`tar | zstd` on the "source").
 */
import test from 'ava';
import { execa } from 'execa';
import { LocalTransport } from '../../../transports/local.js';
import type { Transport } from '../../../transports/transport.js';
import { PARENT_LINK, sendDirectory } from '../../../src/transfer/send-dir.js';
import { isPageImage, sendImages } from '../../../src/transfer/send-images.js';
import { isMigrateError } from '../../../transports/errors.js';

const local = new LocalTransport();
/** The same machine, but sendImages treats it as a remote source and relays its `tar | zstd`. */
const farSource = Object.assign(Object.create(local) as Transport, { isLocal: false });

const sh = async (script: string, ...args: string[]) => (await execa('bash', ['-c', script, 'test', ...args])).stdout;

/** A directory shaped like a CRIU dump: page images, small images, a subdirectory, a parent link. */
async function dump(): Promise<string> {
  const dir = await sh('mktemp -d /var/tmp/migrate-send-test.XXXXXX');
  await sh(`set -e; cd "$1"
    head -c 3000000 /dev/urandom > pages-1.img
    head -c 4096 /dev/zero > pagemap-12.img
    printf 'core' > core-12.img
    mkdir sub && printf 'x' > sub/mm-12.img
    ln -s ../elsewhere ${PARENT_LINK}`, dir);
  return dir;
}

/** Name, size and sha256 of every regular file below dir. */
const contents = (dir: string) => sh('cd "$1" && find . -type f -printf "%P %s " -exec sh -c \'sha256sum < "$1"\' _ {} \\; | sort', dir);

const flipOneByte = (chunk: Buffer, offset: number): Buffer => {
  if (offset !== 0 || chunk.length < 5000) return chunk;
  const c = Buffer.from(chunk);
  c[4000]! ^= 1;
  return c;
};

for (const [how, source] of [['in this process', local], ['relayed from a remote source', farSource]] as const) {
  test(`${how}: every file arrives intact, private, without the parent link`, async (t) => {
    const [a, b] = [await dump(), await sh('mktemp -u /var/tmp/migrate-send-test.XXXXXX')];
    const r = await sendImages(source, a, local, `${b}/images`);
    await sh('rm "$1/parent"', a); // the one entry that is not to arrive
    t.is(await contents(`${b}/images`), await contents(a));
    t.false(await sh('test -e "$1/images/parent" && echo yes || true', b).then((s) => s === 'yes'));
    t.is(await sh('stat -c %a "$1/images"', b), '700');
    t.is(await sh('stat -c %a "$1/images/core-12.img"', b), '600');
    t.is(r.files, 4);
    t.is(r.rawBytes, 3000000 + 4096 + 4 + 1);
    t.regex(r.digest, /^[0-9a-f]{64}$/);
    t.true(r.wireBytes > 3000000 && r.wireBytes < 3100000, `wire bytes ${r.wireBytes}`);
    await sh('rm -rf "$1" "$2"', a, b);
  });

  test(`${how}: excluded files stay behind`, async (t) => {
    const [a, b] = [await dump(), await sh('mktemp -u /var/tmp/migrate-send-test.XXXXXX')];
    const r = await sendImages(source, a, local, b, { exclude: isPageImage });
    t.is(await sh('cd "$1" && find . -type f | sort', b), './core-12.img\n./sub/mm-12.img');
    t.is(r.files, 2);
    await sh('rm -rf "$1" "$2"', a, b);
  });

  test(`${how}: a corrupted stream is caught`, async (t) => {
    const [a, b] = [await dump(), await sh('mktemp -u /var/tmp/migrate-send-test.XXXXXX')];
    const e = await t.throwsAsync(sendImages(source, a, local, b, { tamper: flipOneByte }));
    t.true(isMigrateError(e, 'TRANSFER_FAILED'), String(e));
    await sh('rm -rf "$1" "$2"', a, b);
  });

  test(`${how}: a directory holding something other than files is refused`, async (t) => {
    const [a, b] = [await dump(), await sh('mktemp -u /var/tmp/migrate-send-test.XXXXXX')];
    await sh('mkfifo "$1/fifo"', a);
    const e = await t.throwsAsync(sendImages(source, a, local, b));
    t.true(isMigrateError(e, 'BAD_INPUT'), String(e));
    t.regex(String(e), /refusing to send/);
    await sh('rm -rf "$1" "$2"', a, b);
  });
}

test('a target that cannot take the images fails the transfer with the reason', async (t) => {
  const a = await dump();
  const e = await t.throwsAsync(sendDirectory(a, local, '/proc/version/images'));
  t.true(isMigrateError(e, 'TRANSFER_FAILED'), String(e));
  t.regex(String((e as { stderr?: string }).stderr), /cannot enter|mkdir/);
  await sh('rm -rf "$1"', a);
});

test('in this process: more small files than are read ahead, between big ones, all arrive intact', async (t) => {
  const [a, b] = [await sh('mktemp -d /var/tmp/migrate-send-test.XXXXXX'), await sh('mktemp -u /var/tmp/migrate-send-test.XXXXXX')];
  await sh(`set -e; cd "$1"
    for i in $(seq 10 49); do head -c $((i * 997)) /dev/urandom > "core-$i.img"; done
    head -c 2000000 /dev/urandom > pages-1.img; head -c 1048577 /dev/urandom > pages-2.img; : > empty.img`, a);
  const r = await sendImages(local, a, local, b);
  t.is(await contents(b), await contents(a));
  t.is(r.files, 43);
  await sh('rm -rf "$1" "$2"', a, b);
});
