import test from 'ava';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { LocalTransport } from '../../transports/local.js';
import { isMigrateError } from '../../transports/errors.js';

const local = new LocalTransport();

test('exec returns output and exit code', async (t) => {
  const r = await local.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'], { allowFailure: true });
  t.is(r.stdout, 'out\n');
  t.is(r.stderr, 'err\n');
  t.is(r.exitCode, 3);
});

test('a failing command raises COMMAND_FAILED with stderr and the command', async (t) => {
  const e = await t.throwsAsync(local.exec(['sh', '-c', 'echo broken >&2; exit 7']));
  t.true(isMigrateError(e, 'COMMAND_FAILED'));
  t.is((e as any).exitCode, 7);
  t.regex(e!.message, /exited with code 7 on local: sh -c/);
  t.regex(e!.message, /broken/);
});

test('a missing program raises COMMAND_NOT_FOUND', async (t) => {
  const e = await t.throwsAsync(local.exec(['no-such-program-xyz']));
  t.true(isMigrateError(e, 'COMMAND_NOT_FOUND'));
});

test('spawn streams stdin to stdout', async (t) => {
  const cmd = local.spawn(['sha256sum']);
  const data = Buffer.alloc(8 * 1024 * 1024, 7);
  cmd.stdin.end(data);
  let out = '';
  cmd.stdout.on('data', (b) => (out += b));
  await cmd.done;
  t.is(out.split(' ')[0], createHash('sha256').update(data).digest('hex'));
});

test('spawn rejects on a non-zero exit', async (t) => {
  const cmd = local.spawn(['sh', '-c', 'echo nope >&2; exit 4']);
  cmd.stdin.end();
  cmd.stdout.resume();
  const e = await t.throwsAsync(cmd.done);
  t.true(isMigrateError(e, 'COMMAND_FAILED'));
  t.regex(e!.message, /nope/);
});

test('kill ends the whole process group, also children that outlive SIGTERM', async (t) => {
  // Every process here ignores SIGTERM (as a bash child blocked opening a FIFO can): only the
  // SIGKILL that follows ends them, and with them the pipes that keep this process waiting.
  const cmd = local.spawn(['bash', '-c', 'trap "" TERM; sleep 60 & sleep 60 & echo started; wait']);
  cmd.stdin.end();
  await new Promise((r) => cmd.stdout.once('data', r));
  const pgid = Number((await local.exec(['sh', '-c', 'pgrep -f "^sleep 60" | head -1 | xargs ps -o pgid= -p'])).stdout.trim());
  t.true(pgid > 1);
  cmd.kill();
  await t.throwsAsync(cmd.done);
  let alive = '';
  for (let i = 0; i < 30; i++) {
    alive = (await local.exec(['pgrep', '-g', String(pgid)], { allowFailure: true })).stdout.trim();
    if (!alive) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.is(alive, '', 'nothing of the killed command is left');
});

test('reverseStream: connections to a loopback port reach the handler as sockets, until closed', async (t) => {
  const back = await local.reverseStream(0, (s) => s.end('from the controller'));
  t.is(back.remoteHost, '127.0.0.1');
  t.true(back.remotePort > 0);
  const c = connect(back.remotePort, back.remoteHost);
  let got = '';
  c.on('data', (b: Buffer) => (got += b));
  await once(c, 'close');
  t.is(got, 'from the controller');
  await back.close();
  const refused = connect(back.remotePort, back.remoteHost);
  const [e] = await once(refused, 'error') as [NodeJS.ErrnoException];
  t.is(e.code, 'ECONNREFUSED');
});
