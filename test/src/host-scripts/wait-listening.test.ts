/**
 * wait-listening.sh returns once something listens on the port (a page server that came up while
 * it waited), and gives up after its time with exit 1; a look starts no process.
 */
import test from 'ava';
import { createServer, type Server } from 'node:net';
import { LocalTransport } from '../../../transports/local.js';
import { hostScript } from '../../../src/host-scripts/index.js';

const local = new LocalTransport();

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

test('it returns 0 soon after a listener appears on the port', async (t) => {
  const probe = createServer();
  const port = await listen(probe); // a free port: closed again, listened on later
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const server = createServer();
  t.teardown(() => server.close());
  const waiting = local.exec(hostScript('wait-listening', String(port), '10'), { allowFailure: true });
  await new Promise((r) => setTimeout(r, 300));
  const listenedAt = Date.now();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const r = await waiting;
  t.is(r.exitCode, 0, r.stderr);
  t.true(Date.now() - listenedAt < 2000, `returned ${Date.now() - listenedAt} ms after the listener`);
});

test('nothing listening: exit 1 after the given seconds', async (t) => {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const started = Date.now();
  const r = await local.exec(hostScript('wait-listening', String(port), '1'), { allowFailure: true });
  t.is(r.exitCode, 1, r.stderr);
  t.true(Date.now() - started < 3000, `gave up after ${Date.now() - started} ms`);
});
