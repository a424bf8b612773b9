/**
 * receive-tar.sh in the copy made while the workload runs: a stream whose view of the tree
 * changed under tar (a directory swapped for a symlink between two reads) is placed as far as
 * it goes, never through the symlink, and does not fail the copy; the same stream fails the
 * frozen copy, and a damaged stream fails both.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { LocalTransport } from '../../../transports/local.js';
import { hostScript } from '../../../src/host-scripts/index.js';
import { scratchDir } from '../../helpers/scratch.js';

const local = new LocalTransport();

/** `./d` a symlink to `outside`, then `./d/f` a file, then `./ok`: zstd-compressed. */
async function swappedStream(outside: string): Promise<Buffer> {
  const p = pack();
  p.entry({ name: './d', type: 'symlink', linkname: outside });
  p.entry({ name: './d/f', type: 'file' }, 'through the link\n');
  p.entry({ name: './ok', type: 'file' }, 'fine\n');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return execFileSync('zstd', ['-q', '-c'], { input: Buffer.concat(chunks) });
}

test('running copy: entries placed as far as they go, nothing through the symlink, exit 0; frozen copy: exit 2', async (t) => {
  const base = scratchDir(t, 'receive-tar');
  const outside = join(base, 'outside');
  mkdirSync(outside);
  const input = await swappedStream(outside);
  const running = await local.exec(hostScript('receive-tar', join(base, 'a'), 'tree-changing'), { input, allowFailure: true });
  t.is(running.exitCode, 0, running.stderr);
  t.regex(running.stderr, /Cannot open: Not a directory/);
  t.regex(running.stderr, /^sha256 [0-9a-f]{64}$/m);
  t.is(readFileSync(join(base, 'a', 'ok'), 'utf8'), 'fine\n');
  t.false(existsSync(join(outside, 'f')), 'nothing written through the symlink');
  const frozen = await local.exec(hostScript('receive-tar', join(base, 'b'), 'tree'), { input, allowFailure: true });
  t.is(frozen.exitCode, 2);
  const damaged = await local.exec(hostScript('receive-tar', join(base, 'c'), 'tree-changing'), { input: Buffer.concat([input.subarray(0, 40), Buffer.alloc(64, 7)]), allowFailure: true });
  t.not(damaged.exitCode, 0);
});
