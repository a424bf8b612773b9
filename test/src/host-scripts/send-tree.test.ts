/**
 * send-tree.sh reads a container's tree, which the container may change while it runs: a
 * directory swapped for a symlink to a host directory between the listing and the read must not
 * bring the host's files along (issue 18, item 2). The swap is staged before the read, as the
 * race would leave it.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTransport } from '../../../transports/local.js';
import { hostScript } from '../../../src/host-scripts/index.js';
import { scratchDir } from '../../helpers/scratch.js';

const local = new LocalTransport();
const SECRET = 'canary-secret-3f9c';

/** A tree with dir/data and link -> dir, and, outside it, a canary directory with a secret file. */
function stage(t: ExecutionContext): { root: string; canary: string } {
  const base = scratchDir(t, 'send-tree');
  const root = join(base, 'tree');
  const canary = join(base, 'canary');
  mkdirSync(join(root, 'dir'), { recursive: true });
  writeFileSync(join(root, 'dir', 'data'), 'the container\'s own file\n');
  symlinkSync('dir', join(root, 'link'));
  mkdirSync(canary);
  writeFileSync(join(canary, 'data'), `${SECRET}\n`);
  return { root, canary };
}

/** Runs send-tree.sh on `entries` and unpacks what it sent: the member names and their text. */
async function send(root: string, entries: string[], mode: 'changing' | 'still'): Promise<{ exitCode: number; members: Record<string, string> }> {
  const r = await local.exec(['bash', '-c', 'set -o pipefail; "$@" | zstd -d -q -c > "$OUT.tar"', 'send', ...hostScript('send-tree', root, '1', mode)],
    { input: entries.map((e) => `${e}\0`).join(''), env: { OUT: root }, allowFailure: true });
  const members: Record<string, string> = {};
  const list = execFileSync('tar', ['-t', '-f', `${root}.tar`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const m of list) members[m] = execFileSync('tar', ['-x', '-O', '-f', `${root}.tar`, m], { encoding: 'utf8' });
  return { exitCode: r.exitCode, members };
}

test('the listed tree arrives whole: files, a symlink as a symlink', async (t) => {
  const { root } = stage(t);
  const { exitCode, members } = await send(root, ['.', './dir', './dir/data', './link'], 'still');
  t.is(exitCode, 0);
  t.deepEqual(Object.keys(members).sort(), ['./', './dir/', './dir/data', './link']);
  t.is(members['./dir/data'], 'the container\'s own file\n');
});

test('a directory swapped for a symlink to a host directory after the listing: the host file is not read', async (t) => {
  const { root, canary } = stage(t);
  renameSync(join(root, 'dir'), join(root, 'dir.old'));
  symlinkSync(canary, join(root, 'dir'));
  const running = await send(root, ['.', './dir', './dir/data'], 'changing');
  t.is(running.exitCode, 0, 'while it runs: an entry it could not read is skipped');
  t.false(Object.values(running.members).some((text) => text.includes(SECRET)), 'nothing of the canary was sent');
  t.false('./dir/data' in running.members);
  const frozen = await send(root, ['.', './dir', './dir/data'], 'still');
  t.not(frozen.exitCode, 0, 'while frozen: every listed entry must be read, so it fails');
  t.false(Object.values(frozen.members).some((text) => text.includes(SECRET)));
});
