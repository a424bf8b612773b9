/**
 * list-tree.sh lists a running container's tree: directories come and go while find walks it. One
 * that is gone by the time find goes into it is left out, not an error (found by the lab test of a
 * container swapping a directory for a symlink: find said "No such file or directory" and the
 * whole migration failed).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTransport } from '../../../transports/local.js';
import { hostScript } from '../../../src/host-scripts/index.js';
import { scratchDir } from '../../helpers/scratch.js';

const local = new LocalTransport();

test('a directory tree made and removed as fast as a shell can, listed 500 times: every listing succeeds', async (t) => {
  const root = scratchDir(t, 'list-tree');
  mkdirSync(join(root, 's'));
  // Its own process group: the shell and the mkdir or rm it runs at that moment all stop at once.
  const churn = spawn('sh', ['-c', 'while :; do mkdir -p "$1/s/d/a/b/c" "$1/s/d/e/f/g"; : > "$1/s/d/a/b/c/x"; : > "$1/s/d/e/f/g/y"; rm -rf "$1/s/d"; done', 'churn', root], { stdio: 'ignore', detached: true });
  const exited = once(churn, 'exit');
  try {
    const failed: string[] = [];
    for (let i = 0; i < 500; i++) {
      const r = await local.exec(hostScript('list-tree', root, '%p\\0'), { allowFailure: true });
      if (r.exitCode !== 0) failed.push(`${r.exitCode}: ${r.stderr.trim()}`);
    }
    t.deepEqual(failed, []);
  } finally {
    // Before the scratch directory goes (t.teardown): a churn still running made its removal fail
    // with ENOTEMPTY once in CI (a child mkdir outlived its killed shell).
    process.kill(-churn.pid!, 'SIGKILL');
    await exited;
  }
});

