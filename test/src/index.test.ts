/**
 * The library entry (src/index.ts): what it exports, that `migrate()` reaches each kind of
 * workload, and that the CLI goes through it only.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from '../../src/index.js';
import { REPO } from '../helpers/lab.js';

test('the entry exports what a script needs', (t) => {
  for (const name of ['migrate', 'check', 'recover', 'openTransport', 'LocalTransport', 'SshTransport', 'isMigrateError', 'errorJson']) {
    t.is(typeof (lib as Record<string, unknown>)[name], 'function', name);
  }
  t.true(new lib.MigrateError('BAD_INPUT', 'x') instanceof Error);
  t.deepEqual([...lib.STRATEGIES], ['cold', 'postcopy', 'precopy', 'hybrid']);
  t.deepEqual([...lib.TCP_POLICIES], ['refuse', 'close', 'keep']);
});

test('migrate() reaches each kind: an unknown tree, runc container or Docker container is refused in preflight, naming it', async (t) => {
  const source = new lib.LocalTransport();
  const target = new lib.LocalTransport();
  for (const [choice, said] of [[{ pid: 4194301 }, /PID 4194301/], [{ runc: 'no-such-runc-ctr', runcRoot: '/run/runc' }, /no-such-runc-ctr/], [{ container: 'no-such-ctr-9d2f' }, /no-such-ctr-9d2f/]] as const) {
    const e = await t.throwsAsync(lib.migrate({ ...choice, source, target }));
    t.true(lib.isMigrateError(e), String(e));
    t.regex(e!.message, said);
  }
});

test('the CLI imports the library through its entry only', (t) => {
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
  const bad: string[] = [];
  for (const f of files(join(REPO, 'migrate'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)) {
      if (/\/(src|transports)\//.test(m[1]!) && !m[1]!.endsWith('/src/index.js')) bad.push(`${f}: ${m[1]}`);
    }
  }
  t.deepEqual(bad, []);
});
