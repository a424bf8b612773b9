/**
 * The direct route's address and probe with stand-in hosts: the address comes from the
 * controller's view of the listener, or (loopback, local) from the listener's route toward the
 * connector; the probe passes only when the connector really connects to what listens.
 */
import test from 'ava';
import { createServer, type AddressInfo } from 'node:net';
import { LocalTransport } from '../../../transports/local.js';
import type { ExecResult, Transport } from '../../../transports/transport.js';
import type { PageServer } from '../../../src/criu/services.js';
import { listenAddress, probeRoute, type ProbeServer } from '../../../src/transfer/direct-route.js';

const local = new LocalTransport();

/** A host reached over SSH at `networkHost`, whose commands run here (or answer `answer`). */
function host(name: string, networkHost: string | undefined, answer?: (argv: readonly string[]) => Partial<ExecResult>): Transport {
  return Object.assign(Object.create(local) as Transport, {
    name, isLocal: networkHost === undefined, networkHost,
    exec: answer ? async (argv: readonly string[]) => ({ stdout: '', stderr: '', exitCode: 0, ...answer(argv) }) : local.exec.bind(local),
  });
}

test('the listener\'s own network address when the controller reaches it over the network', async (t) => {
  t.deepEqual(await listenAddress(host('b', '10.0.0.2'), host('a', undefined)), { address: '10.0.0.2' });
});

test('a local or loopback-reached listener: the address it sends from toward the connector', async (t) => {
  const asked: string[][] = [];
  const listener = host('a', undefined, (argv) => {
    asked.push([...argv]);
    return { stdout: '10.0.0.1\n' };
  });
  t.deepEqual(await listenAddress(listener, host('b', '10.0.0.2')), { address: '10.0.0.1' });
  t.true(asked[0]!.join(' ').includes('10.0.0.2'), 'it asked for its route to the connector');
  const looped = host('a', '127.0.0.1', () => ({ stdout: '10.0.0.1\n' }));
  t.deepEqual(await listenAddress(looped, host('b', '10.0.0.2')), { address: '10.0.0.1' });
});

test('no address when neither host is reached over the network, or the listener has no route', async (t) => {
  const r1 = await listenAddress(host('a', '127.0.0.1'), host('b', '127.0.0.1'));
  t.regex('why' in r1 ? r1.why : '', /no network address of a/);
  const r2 = await listenAddress(host('a', undefined, () => ({ exitCode: 1, stderr: 'RTNETLINK answers: Network is unreachable' })), host('b', '10.0.0.2'));
  t.regex('why' in r2 ? r2.why : '', /a has no route to 10\.0\.0\.2.*unreachable/);
});

/** Listens on `address` like a probe's page server: one connection, then it ends. */
const fakeProbe = (listening = true): ProbeServer => async (_t, _d, address) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, address, r));
  const port = (server.address() as AddressInfo).port;
  if (!listening) await new Promise<void>((r) => server.close(() => r()));
  const done = new Promise<void>((resolve) => server.once('connection', (s) => { s.destroy(); server.close(); resolve(); }));
  const ps: PageServer = { port, done, kill: () => server.close() };
  return ps;
};

test('the probe passes when the connector reaches the listener\'s address, and fails when nothing answers there', async (t) => {
  // 127.0.0.2 stands for the listener's address; the connector's commands run on this machine.
  const listener = host('b', '127.0.0.3', () => ({ stdout: '127.0.0.2\n' }));
  const connector = host('a', '10.9.9.9');
  t.deepEqual(await probeRoute(listener, connector, '/tmp', fakeProbe()), { address: '127.0.0.2' });
  const failed = await probeRoute(listener, connector, '/tmp', fakeProbe(false));
  t.regex('why' in failed ? failed.why : '', /a cannot connect to 127\.0\.0\.2:\d+ on b: refused or unreachable/);
});

test('a listener where CRIU cannot listen is a reason, not an error', async (t) => {
  const r = await probeRoute(host('b', '10.0.0.2'), host('a', undefined), '/tmp', async () => { throw new Error('criu page-server failed\nAddress not available'); });
  t.regex('why' in r ? r.why : '', /CRIU cannot listen on 10\.0\.0\.2 on b: criu page-server failed$/);
});
