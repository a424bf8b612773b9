import test from 'ava';
import type { Client, ClientChannel } from 'ssh2';
import { Forwarding } from '../../../transports/ssh/forwarding.js';

/** A connection whose forwardIn records what it was asked and binds the port. */
function fakeClient() {
  const asked: string[] = [];
  const client = {
    forwardIn: (addr: string, port: number, cb: (err: Error | undefined, p: number) => void) => { asked.push(`${addr}:${port}`); cb(undefined, port); },
    unforwardIn: (_a: string, _p: number, cb: () => void) => cb(),
  } as unknown as Client;
  return { client, asked };
}

test('sshd with GatewayPorts yes: a reverse forward is refused before anything listens; otherwise it binds loopback', async (t) => {
  const yes = fakeClient();
  const f = new Forwarding(async () => yes.client, 'root@b', () => {}, async () => 'port 22\ngatewayports yes\nx11forwarding no\n');
  const e = await t.throwsAsync(f.reverseForward(4000, 5000, '127.0.0.1'));
  t.regex(e!.message, /GatewayPorts yes: a reverse forward would listen on every address/);
  t.deepEqual(yes.asked, []);
  for (const conf of ['gatewayports clientspecified\n', 'gatewayports no\n', undefined]) {
    const ok = fakeClient();
    const g = new Forwarding(async () => ok.client, 'root@b', () => {}, async () => conf);
    const r = await g.reverseForward(4001, 5000, '127.0.0.1');
    t.is(r.remoteHost, '127.0.0.1');
    t.deepEqual(ok.asked, ['127.0.0.1:4001'], String(conf));
  }
});

test('reverseStream: a connection to the bound port is handed over as its channel; one to an unknown port is rejected', async (t) => {
  const ok = fakeClient();
  const f = new Forwarding(async () => ok.client, 'root@b', () => {}, async () => undefined);
  const got: unknown[] = [];
  const r = await f.reverseStream(4002, (s) => got.push(s));
  t.deepEqual([r.remoteHost, r.remotePort], ['127.0.0.1', 4002]);
  const channel = { fake: 'channel' } as unknown as ClientChannel;
  let rejected = 0;
  f.onReverseConnection({ destPort: 4002 }, () => channel, () => rejected++);
  t.deepEqual(got, [channel]);
  f.onReverseConnection({ destPort: 4003 }, () => channel, () => rejected++);
  t.is(rejected, 1);
  await r.close();
  f.onReverseConnection({ destPort: 4002 }, () => channel, () => rejected++);
  t.is(rejected, 2, 'closed: no longer handed over');
});
