/** The README's library script, run as it is printed there, against the lab: the container moves A → B. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalTransport, SshTransport } from '../../src/index.js';
import { ensureLab, REPO, sshOpts } from '../helpers/lab.js';
import { removeEverywhere, running, startContainer } from '../helpers/containers.js';

const run = promisify(execFile);
const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

test.serial('the README\'s ten-line script migrates a container through the library entry', async (t) => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /### As a library[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  t.truthy(block, 'the README has the script');
  t.true(block!.split('\n').filter(Boolean).length <= 10, 'ten lines at most');
  const script = join(REPO, 'dist', 'readme-script.mjs'); // inside the package: `import 'migrate'` resolves to it
  writeFileSync(script, block!);
  const name = await startContainer(a, 16);
  try {
    const { stdout, stderr } = await run('node', [script, name, lab.target], { env: process.env });
    t.regex(stdout, new RegExp(`^${name}: migrated, runs on the target, frozen \\d+ ms$`, 'm'));
    t.regex(stderr, /^checkpoint$/m, 'progress through onEvent');
    t.is(await running(b, name), 'true');
  } finally {
    rmSync(script, { force: true });
    await removeEverywhere(name, a, b);
  }
});
