/**
 * remove-stale-dirs.sh removes what an earlier run of the same workload left (`PREFIX-<time>`),
 * never the directories of another workload whose prefix starts the same way (`runc-web-2-<time>`
 * is a concurrent migration of runc container web-2, under a lock of its own).
 */
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTransport } from '../../../transports/local.js';
import { hostScript } from '../../../src/host-scripts/index.js';
import { scratchDir } from '../../helpers/scratch.js';

const local = new LocalTransport();

function workRoot(t: ExecutionContext, dirs: string[]): string {
  const root = scratchDir(t, 'stale');
  for (const d of dirs) {
    mkdirSync(join(root, d));
    writeFileSync(join(root, d, 'pages-1.img'), 'x');
  }
  return root;
}

test('only PREFIX-<digits> is removed: not another workload whose name starts with the same prefix', async (t) => {
  const root = workRoot(t, ['runc-web-1796000000000', 'runc-web-2-1796000000001', 'runc-web-', 'runc-web-17960x', 'runc-webby-1796000000002']);
  await local.exec(hostScript('remove-stale-dirs', root, 'runc-web'));
  t.deepEqual(readdirSync(root).sort(), ['runc-web-', 'runc-web-17960x', 'runc-web-2-1796000000001', 'runc-webby-1796000000002']);
  await local.exec(hostScript('remove-stale-dirs', root, 'runc-web-2'));
  t.deepEqual(readdirSync(root).sort(), ['runc-web-', 'runc-web-17960x', 'runc-webby-1796000000002']);
});

test('a work root without leftovers (or without any entry) is fine', async (t) => {
  const root = workRoot(t, []);
  await local.exec(hostScript('remove-stale-dirs', root, 'pid-42-1234'));
  t.deepEqual(readdirSync(root), []);
});
