/**
 * The freeze's deadline with the real parts: a CRIU that stops answering (a wrapper on PATH that
 * hangs on `dump`) makes migrate roll back once --freeze-timeout passes, instead of wedging; the
 * hung command is left alone, and the source's guard finishes the clean-up once it ends.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LocalTransport } from '../../../../transports/local.js';
import { ensureLab, REPO } from '../../../helpers/lab.js';
import { continuous, SHARED_DIR, startTree, tempDir, ticks } from '../../../helpers/workload.js';

const run = promisify(execFile);
const lab = ensureLab();
const a = new LocalTransport();
const CLI = join(REPO, 'dist/migrate/cli.js');

/** A directory with a `criu` that hangs on `dump` and is the real one for everything else. */
async function hangingCriu(): Promise<string> {
  const dir = await tempDir(a, '/var/tmp/migrate-hang');
  const real = (await a.exec(['sh', '-c', 'command -v criu'])).stdout.trim();
  await a.exec(['sh', '-c', `printf '#!/bin/sh\\n[ "$1" = dump ] && { trap \\047kill $!; exit 1\\047 TERM; sleep 600 & wait; exit 1; }\\nexec ${real} "$@"\\n' > "$1/criu" && chmod 755 "$1/criu"`, 'w', dir]);
  return dir;
}

test.serial('a dump that hangs is rolled back after --freeze-timeout: exit 1, FREEZE_TIMEOUT naming the checkpoint, the tree runs on', async (t) => {
  const wrapper = await hangingCriu();
  const dir = await tempDir(a, SHARED_DIR);
  const w = await startTree(a, lab.memload, ['--mib', '16', '--tick-ms', '20'], dir);
  try {
    await sleep(200);
    const started = Date.now();
    const r = await run('node', [CLI, '--pid', String(w.pid), '--to', lab.target, '--strategy', 'cold', '--freeze-timeout', '3', '--json'],
      { env: { ...process.env, PATH: `${wrapper}:${process.env.PATH}` } }).then(() => ({ code: 0, stdout: '' }), (e: { code: number; stdout: string }) => e);
    t.is(r.code, 1);
    const report = JSON.parse(r.stdout);
    t.is(report.outcome, 'rolled-back');
    t.is(report.runs_on, 'source');
    t.is(report.error.code, 'FREEZE_TIMEOUT');
    t.regex(report.error.message, /the checkpoint of process tree \d+ did not finish within the freeze's deadline \(3000 ms/);
    t.true(Date.now() - started < 60_000, 'it did not wait for the hung command');
    const before = (await ticks(a, w.out)).length;
    await sleep(400);
    const after = await ticks(a, w.out);
    t.true(after.length > before && continuous(after), 'the tree counts on, without gap or repeat');
    // The hung command ends; the guard that waited for it removes the run's directory.
    await a.exec(['pkill', '-f', `${wrapper}/criu dump`], { allowFailure: true });
    let left = '1';
    for (let i = 0; i < 40 && left !== '0'; i++) {
      await sleep(250);
      left = (await a.exec(['sh', '-c', 'ls -d /var/lib/migrate/pid-$1-* 2>/dev/null | wc -l', 'n', String(w.pid)])).stdout.trim();
    }
    t.is(left, '0', 'no image directory left once the hung command ended');
  } finally {
    await a.exec(['pkill', '-f', `${wrapper}/criu`], { allowFailure: true });
    await a.exec(['kill', '-KILL', String(w.pid)], { allowFailure: true });
    await a.exec(['rm', '-rf', wrapper], { allowFailure: true });
  }
});
