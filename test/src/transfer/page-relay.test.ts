import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { LocalTransport } from '../../../transports/local.js';
import { startPageRelay } from '../../../src/transfer/page-relay.js';

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
  const relay = await startPageRelay(() => local.openStream(far.port));
  const payload = randomBytes(8 << 20).map((b) => (b === 0x21 ? 0 : b));
  const client = connect(relay.port, relay.host);
  await once(client, 'connect');
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
  const relay = await startPageRelay(() => local.openStream((dying.address() as { port: number }).port));
  const client = connect(relay.port, relay.host);
  client.on('error', () => {});
  await once(client, 'connect');
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
  const relay = await startPageRelay(() => local.openStream((squatter.address() as { port: number }).port), { answerWithinMs: 300, far: 'B\'s page server' });
  const client = connect(relay.port, relay.host);
  client.on('error', () => {});
  await once(client, 'connect');
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
  const relay = await startPageRelay(() => local.openStream(far.port), { answerWithinMs: 200 });
  const client = connect(relay.port, relay.host);
  await once(client, 'connect');
  client.write('!');
  await once(client, 'data');
  await new Promise((r) => setTimeout(r, 600)); // quiet well past the deadline
  client.end('more');
  await once(client, 'close');
  t.is(await relay.done, 1 + 4 + 2);
  far.server.close();
});
