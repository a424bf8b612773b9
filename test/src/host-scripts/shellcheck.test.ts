/**
 * shellcheck on every host script (lab/provision.sh installs it). No lab needed; a missing
 * shellcheck fails the test rather than skipping it.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../helpers/lab.js';

const DIRS = ['src/host-scripts', 'src/host-scripts/lib', 'transports/host-scripts'];

/** Runs shellcheck from the repository root; fails the test when it cannot run at all. */
function shellcheck(t: ExecutionContext, args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync('shellcheck', args, { cwd: REPO, encoding: 'utf8', input });
  if (r.error) t.fail(`shellcheck cannot run (${r.error.message}): install it (lab/provision.sh does)`);
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

test('shellcheck finds nothing in the host scripts', (t) => {
  const files = DIRS.flatMap((d) => readdirSync(join(REPO, d)).filter((f) => f.endsWith('.sh')).sort().map((f) => join(d, f)));
  t.true(files.length > 0, 'no .sh files found');
  const r = shellcheck(t, ['--external-sources', ...files]); // follows `# shellcheck source=` to lib/*.sh
  if (r.status !== 0) t.fail(`shellcheck reports findings (exit ${r.status}):\n${r.output}`);
  t.pass();
});

test('shellcheck does report a finding (the check above is not vacuous)', (t) => {
  const r = shellcheck(t, ['-'], '#!/bin/sh\nrm -rf $1\n');
  t.not(r.status, 0);
  t.regex(r.output, /SC2086/);
});
