/**
 * The page forwarder as migrate runs it (local transport: node and the built program on this
 * machine), between a made-up page server on loopback and a made-up daemon. The lab tests run it
 * between real CRIUs on two hosts (page-channel.lab.test.ts).
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { LocalTransport } from '../../../transports/local.js';
import type { RunningCommand, Transport } from '../../../transports/transport.js';
import { startPageForwarder, type PageForwarder } from '../../../src/transfer/page-forwarder.js';
import { PAGE_PORTS } from '../../../src/criu/services.js';

function workDir(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'forward-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function started(t: import('ava').ExecutionContext, transport: Transport = new LocalTransport()): Promise<PageForwarder> {
  const f = await startPageForwarder(transport, { workDir: workDir(t), address: '127.0.0.1' });
  if ('unavailable' in f) throw new Error(f.unavailable);
  t.teardown(() => f.kill());
  return f;
}

/**
 * A page server like CRIU's lazy one, for what the forwarder sees: it reads the client's
 * request, answers with `reply`, reads the close, answers a status and closes.
 */
async function fakeServer(reply: Buffer) {
  let asked: Buffer = Buffer.alloc(0);
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.once('data', (b: Buffer) => {
      asked = b;
      s.write(reply);
      s.once('data', () => s.end(Buffer.alloc(4)));
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, asked: () => asked, close: () => server.close() };
}

/** Reads exactly `n` bytes from `s` (what follows stays in it). */
function read(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let got = 0;
    const take = (b: Buffer) => {
      parts.push(b);
      got += b.length;
      if (got < n) return;
      s.removeListener('data', take);
      s.pause();
      const all = Buffer.concat(parts);
      if (all.length > n) s.unshift(all.subarray(n));
      resolve(all.subarray(0, n));
    };
    s.on('data', take);
    s.resume();
  });
}

test('it carries a session both ways, in order, between a client on its port and the page server on loopback; then it says how much', async (t) => {
  const reply = randomBytes(8 << 20);
  const server = await fakeServer(reply);
  t.teardown(server.close);
  const f = await started(t);
  t.true(f.port >= PAGE_PORTS.low && f.port <= PAGE_PORTS.high, `port ${f.port} is a page channel port`);
  // The daemon may dial before the dump told the forwarder where the page server is: it waits.
  const client = connect({ host: '127.0.0.1', port: f.port, allowHalfOpen: true });
  await once(client, 'connect');
  client.write('GET');
  await new Promise((r) => setTimeout(r, 200));
  f.upstream(server.port);
  t.true((await read(client, reply.length)).equals(reply), 'every byte of the reply, in order');
  t.is(server.asked().toString(), 'GET');
  client.write('CLOSE');
  t.deepEqual(await read(client, 4), Buffer.alloc(4), 'the status after the close');
  client.end();
  t.is(await f.done, reply.length + 4, 'it counts what it carried to the target');
});

test('a page server that is gone breaks the session: the forwarder fails, saying where', async (t) => {
  const server = await fakeServer(Buffer.alloc(0));
  server.close(); // its port, now refused
  const f = await started(t);
  f.upstream(server.port);
  const client = connect({ host: '127.0.0.1', port: f.port });
  client.on('error', () => {});
  const e = await t.throwsAsync(f.done);
  t.regex(e!.message, new RegExp(`the page forwarder on local failed: page forwarder: the lazy page server at 127\\.0\\.0\\.1:${server.port}: connect ECONNREFUSED`));
});

test('the client hanging up mid-session fails it, as a broken link would', async (t) => {
  const reply = randomBytes(64 << 20); // more than the sockets hold: the client stops reading with most of it unsent
  const server = await fakeServer(reply);
  t.teardown(server.close);
  const f = await started(t);
  f.upstream(server.port);
  const client = connect({ host: '127.0.0.1', port: f.port });
  client.write('GET');
  await read(client, 1 << 20);
  client.resetAndDestroy();
  const e = await t.throwsAsync(f.done);
  t.regex(e!.message, /the page forwarder on local failed: .*(the target's side|ended before its session did)/);
});

test('one session only: a second connection is refused', async (t) => {
  const server = await fakeServer(Buffer.from('x'));
  t.teardown(server.close);
  const f = await started(t);
  const first = connect({ host: '127.0.0.1', port: f.port });
  await once(first, 'connect');
  t.teardown(() => first.destroy());
  await new Promise((r) => setTimeout(r, 100));
  const second = connect({ host: '127.0.0.1', port: f.port });
  const [e] = (await once(second, 'error')) as [NodeJS.ErrnoException];
  t.is(e.code, 'ECONNREFUSED');
});

test('stdin closing before anyone connected ends it quietly (the run no longer needs it)', async (t) => {
  const local = new LocalTransport();
  let cmd: RunningCommand | undefined;
  const watched: Transport = Object.assign(Object.create(local) as Transport, {
    spawn: (argv: readonly string[], o?: Parameters<Transport['spawn']>[1]): RunningCommand => (cmd = local.spawn(argv, o)),
  });
  await started(t, watched);
  cmd!.stdin.end();
  t.is((await cmd!.done).exitCode, 0);
});

test('a host without node: migrate is told why, and moves without it', async (t) => {
  const local = new LocalTransport();
  const noNode: Transport = Object.assign(Object.create(local) as Transport, {
    spawn: (argv: readonly string[], o?: Parameters<Transport['spawn']>[1]): RunningCommand =>
      argv[0] === 'node' ? local.spawn(['sh', '-c', 'echo "sh: 1: node: not found" >&2; exit 127'], o) : local.spawn(argv, o),
  });
  t.deepEqual(await startPageForwarder(noNode, { workDir: workDir(t), address: '127.0.0.1' }), { unavailable: 'no node on local' });
});

test('an address it cannot listen on: migrate is told why, and moves without it', async (t) => {
  const f = await startPageForwarder(new LocalTransport(), { workDir: workDir(t), address: '192.0.2.1' });
  t.true('unavailable' in f);
  t.regex((f as { unavailable: string }).unavailable, /^it did not listen on 192\.0\.2\.1 on local: .*cannot listen on 192\.0\.2\.1:\d+: .*EADDRNOTAVAIL/);
});
