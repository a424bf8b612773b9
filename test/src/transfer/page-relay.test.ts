import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { LocalTransport } from '../../../transports/local.js';
import { relayEndpointOn, createPageRelay, type PageRelay } from '../../../src/transfer/page-relay.js';

/** A socket on the controller's loopback into the relay (as a local host's dump reaches it), connected; the listener is closed after it. */
async function dial(relay: PageRelay) {
  const reach = await relayEndpointOn(new LocalTransport(), relay);
  const client = connect(reach.endpoint.port, reach.endpoint.host);
  client.on('error', () => {});
  await once(client, 'connect');
  await reach.close();
  return client;
}

/** A stand-in page server: hashes what it receives, answers `reply` to '!', closes on end. */
async function fakeServer(reply: string): Promise<{ server: Server; port: number; digest: Promise<string> }> {
  let resolveDigest!: (d: string) => void;
  const digest = new Promise<string>((r) => (resolveDigest = r));
  const server = createServer((s) => {
    const h = createHash('sha256');
    s.on('error', () => {}); // the relay may cut it off
    s.on('data', (b: Buffer) => {
      h.update(b);
      if (b.includes(0x21)) s.write(reply);
    });
    s.on('end', () => {
      resolveDigest(h.digest('hex'));
      s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, digest };
}

test('the relay delivers every byte in order and carries the replies back', async (t) => {
  const local = new LocalTransport();
  const far = await fakeServer('OK');
  const relay = createPageRelay(() => local.openStream(far.port));
  const payload = randomBytes(8 << 20).map((b) => (b === 0x21 ? 0 : b));
  const client = await dial(relay);
  let heard = '';
  client.on('data', (b: Buffer) => (heard += b.toString()));
  client.write(payload);
  client.write('!');
  while (!heard.includes('OK')) await once(client, 'data');
  client.end();
  await once(client, 'close');
  t.is(await relay.done, payload.length + 1 + 'OK'.length, 'bytes both ways');
  t.is(await far.digest, createHash('sha256').update(payload).update('!').digest('hex'));
  far.server.close();
});

test('a page server that goes away fails the session with TRANSFER_FAILED', async (t) => {
  const local = new LocalTransport();
  const dying = createServer((s) => s.destroy());
  await new Promise<void>((r) => dying.listen(0, '127.0.0.1', () => r()));
  const relay = createPageRelay(() => local.openStream((dying.address() as { port: number }).port));
  const client = await dial(relay);
  client.write(randomBytes(1 << 20));
  const e = await t.throwsAsync(relay.done);
  t.regex(e!.message, /page stream broken/);
  client.destroy();
  dying.close();
});

test('a far side that never answers the near side\'s hello (a port squatter) fails the session after the answer deadline', async (t) => {
  const local = new LocalTransport();
  let heard = 0;
  const squatter = createServer((s) => s.on('data', (b: Buffer) => (heard += b.length))); // reads, never answers
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
  const relay = createPageRelay(() => local.openStream((squatter.address() as { port: number }).port), { answerWithinMs: 300, far: 'B\'s page server' });
  const client = await dial(relay);
  const started = Date.now();
  client.write('hello');
  const e = await t.throwsAsync(relay.done);
  t.regex(e!.message, /B's page server did not answer the TLS handshake within 0.3 s/);
  t.true(Date.now() - started < 3000, 'failed at the deadline, not later');
  await once(client, 'close'); // the dump is cut off, so it fails instead of waiting
  t.is(heard, 5);
  squatter.close();
});

test('a far side that answers in time is not cut off later, however long the stream then stays quiet', async (t) => {
  const local = new LocalTransport();
  const far = await fakeServer('OK');
  const relay = createPageRelay(() => local.openStream(far.port), { answerWithinMs: 200 });
  const client = await dial(relay);
  client.write('!');
  await once(client, 'data');
  await new Promise((r) => setTimeout(r, 600)); // quiet well past the deadline
  client.end('more');
  await once(client, 'close');
  t.is(await relay.done, 1 + 4 + 2);
  far.server.close();
});

test('a stream handed to accept() (a reverse forward\'s channel) is the session\'s near side; a second one is refused', async (t) => {
  const local = new LocalTransport();
  const far = await fakeServer('OK');
  const relay = createPageRelay(() => local.openStream(far.port));
  const back = await local.reverseStream(0, (s) => relay.accept(s));
  const client = connect(back.remotePort, back.remoteHost);
  await once(client, 'connect');
  client.write('pages!');
  await once(client, 'data');
  const second = connect(back.remotePort, back.remoteHost);
  second.on('error', () => {});
  await once(second, 'close'); // destroyed: one dump, one session
  client.end();
  await once(client, 'close');
  t.is(await relay.done, 'pages!'.length + 'OK'.length);
  t.is(await far.digest, createHash('sha256').update('pages!').digest('hex'));
  await back.close();
  far.server.close();
});

test('a near side that does not keep up holds back the far side (pages are not heaped up on the controller)', async (t) => {
  const local = new LocalTransport();
  const total = 256 << 20;
  // A page server that sends `total` bytes as fast as it is let.
  const server = createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => void (async () => {
      const chunk = Buffer.alloc(1 << 20);
      for (let sent = 0; sent < total && !s.destroyed; sent += chunk.length) if (!s.write(chunk)) await once(s, 'drain');
    })().catch(() => {})); // cut off at the test's end
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  let carried = 0;
  const relay = createPageRelay(() => local.openStream((server.address() as { port: number }).port), { onBytes: (n) => (carried += n) });
  relay.done.catch(() => {});
  const client = await dial(relay);
  client.write('!');
  client.pause(); // reads nothing
  await new Promise((r) => setTimeout(r, 1500));
  t.true(carried < 64 << 20, `the relay read ${carried >> 20} MiB of the page server's ${total >> 20} while its near side read nothing`);
  client.destroy();
  server.close();
});

test('closed before anyone connected: done rejects, and a connection that comes late is cut', async (t) => {
  const local = new LocalTransport();
  const far = await fakeServer('OK');
  let opened = 0;
  const relay = createPageRelay(() => { opened++; return local.openStream(far.port); });
  const back = await local.reverseStream(0, (s) => relay.accept(s));
  await relay.close();
  const e = await t.throwsAsync(relay.done);
  t.regex(e!.message, /no dump connected to the page relay/);
  const late = connect(back.remotePort, back.remoteHost);
  late.on('error', () => {});
  await once(late, 'close');
  t.is(opened, 0, 'nothing was opened toward the page server');
  await back.close();
  far.server.close();
});
