import test from 'ava';
import { LocalTransport } from '../../../src/index.js';
import { callName, timedTransport, type Call } from '../../../bench/lib/timed-transport.js';

test('commands are recorded with their host, name, times and exit code; other members pass through', async (t) => {
  const calls: Call[] = [];
  const local = new LocalTransport();
  const timed = timedTransport(local, calls);
  t.is(timed.name, local.name);
  t.is(timed.isLocal, true);
  const r = await timed.exec(['sh', '-c', 'exit 3', 'my-script'], { allowFailure: true });
  t.is(r.exitCode, 3);
  const cmd = timed.spawn(['sleep', '0.05']);
  await cmd.done;
  t.is(calls.length, 2);
  const [exec, spawn] = calls;
  t.like(exec, { host: local.name, how: 'exec', what: 'my-script', exitCode: 3 });
  t.like(spawn, { how: 'spawn', what: 'sleep 0.05', exitCode: 0 });
  t.true(spawn!.end! - spawn!.start >= 45, `spawned for ${spawn!.end! - spawn!.start} ms`);
  t.true(exec!.start > Date.now() - 60_000, 'epoch milliseconds');
});

test('a failed command is still recorded, and its error reaches the caller', async (t) => {
  const calls: Call[] = [];
  const timed = timedTransport(new LocalTransport(), calls);
  await t.throwsAsync(timed.exec(['false']));
  t.is(calls.length, 1);
  t.not(calls[0]!.end, undefined);
});

test('host scripts are named by their $0, other commands by their first words', (t) => {
  t.is(callName(['sh', '-c', 'echo body', 'wait-listening', '4242', '60']), 'wait-listening');
  t.is(callName(['docker', 'start', '--checkpoint', 'cp', 'web']), 'docker start --checkpoint');
});

test('a status-fd service is ready when its first byte comes out; its reader still gets that byte', async (t) => {
  const calls: Call[] = [];
  const timed = timedTransport(new LocalTransport(), calls);
  const cmd = timed.spawn(['sh', '-c', 'sleep 0.05; printf x; sleep 0.05', 'svc', '--status-fd', '1']);
  const first = await new Promise<string>((resolve) => cmd.stdout.once('data', (b: Buffer) => resolve(b.toString())));
  await cmd.done;
  t.is(first, 'x');
  const [call] = calls;
  t.true(call!.ready! - call!.start >= 45, `ready after ${call!.ready! - call!.start} ms`);
  t.true(call!.end! - call!.ready! >= 45, `ended ${call!.end! - call!.ready!} ms after ready`);
});
