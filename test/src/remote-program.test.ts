/**
 * Starting one of migrate's node programs on a host (local transport here): its files land in a
 * 0700 directory, its lines reach whoever listens for them — also those it said before anyone
 * did — and a program that cannot start is a reason, not an error.
 */
import test from 'ava';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../../transports/local.js';
import { startRemoteProgram, type RemoteProgram } from '../../src/remote-program.js';

function dir(t: import('ava').ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'remote-program-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return join(d, 'program');
}

/** Says started and two more lines in one write, then answers each stdin line with `echo LINE`. */
const CHATTY = `
import { createInterface } from 'node:readline';
process.stdout.write('started\\nhello ' + process.argv[2] + '\\nhello again\\n');
createInterface({ input: process.stdin }).on('line', (l) => process.stdout.write('echo ' + l + '\\n'));
`;

test('its files are written 0700, it runs, and lines said before anyone listened reach who listens later, then the rest', async (t) => {
  const d = dir(t);
  const p = await startRemoteProgram(new LocalTransport(), { dir: d, files: [['main.js', CHATTY]], main: 'main.js', args: ['there'], needs: 'node' });
  if ('unavailable' in p) return t.fail(p.unavailable);
  t.teardown(() => p.kill());
  t.is(statSync(d).mode & 0o777, 0o700);
  const heard: string[] = [];
  p.on('hello', (arg) => heard.push(arg));
  t.deepEqual(heard, ['there', 'again'], 'said in the same write as started, before the listener existed');
  const echoed = new Promise<string>((resolve) => p.on('echo', resolve));
  p.send('ping');
  t.is(await echoed, 'ping');
});

test('a program that exits before it said started: the reason, with what it said, and what it needs', async (t) => {
  const p = await startRemoteProgram(new LocalTransport(), {
    dir: dir(t), files: [['main.js', 'process.stderr.write("too old\\n"); process.exit(1);']], main: 'main.js', args: [], needs: 'Node 99 or later',
  });
  t.deepEqual(p as Exclude<typeof p, RemoteProgram>, { unavailable: 'it did not start on local (Node 99 or later needed): too old' });
});
