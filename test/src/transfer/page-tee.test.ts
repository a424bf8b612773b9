import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { LocalTransport } from '../../../transports/local.js';
import { startPageTee } from '../../../src/transfer/page-tee.js';

/** A stand-in page server: hashes what it receives, answers `reply` to every request, closes on end. */
async function fakeServer(reply: string): Promise<{ server: Server; port: number; digest: Promise<string> }> {
  let resolveDigest!: (d: string) => void;
  const digest = new Promise<string>((r) => (resolveDigest = r));
  const server = createServer((s) => {
    const h = createHash('sha256');
    s.on('error', () => {}); // the tee may cut it off
    s.on('data', (b: Buffer) => {
      h.update(b);
      if (b.includes(0x21)) s.write(reply); // '!' asks for a reply
    });
    s.on('end', () => {
      resolveDigest(h.digest('hex'));
      s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, digest };
}

test('the tee feeds both servers the same bytes and the client hears only the primary', async (t) => {
  const local = new LocalTransport();
  const primary = await fakeServer('P');
  const copy = await fakeServer('C');
  const tee = await startPageTee(() => local.openStream(primary.port), () => local.openStream(copy.port));
  const payload = randomBytes(8 << 20).map((b) => (b === 0x21 ? 0 : b));
  const client = connect(tee.port, tee.host);
  await once(client, 'connect');
  let heard = '';
  client.on('data', (b: Buffer) => (heard += b.toString()));
  client.write(payload);
  client.write('!');
  while (!heard.includes('P')) await once(client, 'data');
  client.end();
  await once(client, 'close');
  t.is(await tee.done, payload.length + 1);
  const want = createHash('sha256').update(payload).update('!').digest('hex');
  t.is(await primary.digest, want);
  t.is(await copy.digest, want);
  t.is(heard, 'P');
  primary.server.close();
  copy.server.close();
});

test('a page server that goes away fails the session with TRANSFER_FAILED', async (t) => {
  const local = new LocalTransport();
  const primary = await fakeServer('P');
  const dying = createServer((s) => s.destroy());
  await new Promise<void>((r) => dying.listen(0, '127.0.0.1', () => r()));
  const tee = await startPageTee(() => local.openStream(primary.port), () => local.openStream((dying.address() as { port: number }).port));
  const client = connect(tee.port, tee.host);
  client.on('error', () => {});
  await once(client, 'connect');
  client.write(randomBytes(1 << 20));
  const e = await t.throwsAsync(tee.done);
  t.regex(e!.message, /page stream broken/);
  client.destroy();
  primary.server.close();
  dying.close();
});
