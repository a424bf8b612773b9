import test from 'ava';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { dockerEngine, engineCall, engineFind } from '../../../src/docker/engine.js';
import { MigrateError } from '../../../transports/errors.js';
import type { RunningCommand, Transport } from '../../../transports/transport.js';

/**
 * A remote host whose `docker system dial-stdio` leads to a small HTTP server standing in for
 * dockerd: what the SSH path of engine.ts sends and keeps open.
 */
async function fakeRemote(handle: (method: string, url: string) => { status: number; body: unknown }) {
  const requests: string[] = [];
  let dials = 0;
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const { status, body } = handle(req.method!, req.url!);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const transport = {
    name: 'root@fake', isLocal: false,
    spawn(argv: readonly string[]): RunningCommand {
      if (argv.join(' ') !== 'docker system dial-stdio') throw new Error(`unexpected command ${argv.join(' ')}`);
      dials++;
      const sock = connect(port, '127.0.0.1');
      const stdout = new PassThrough();
      sock.pipe(stdout);
      const done = new Promise<{ exitCode: number; stderr: string }>((resolve) => sock.once('close', () => resolve({ exitCode: 0, stderr: '' })));
      return { stdin: sock, stdout, done, kill: () => sock.destroy(), letGo: () => sock.end() };
    },
  } as unknown as Transport;
  return { transport, requests, dials: () => dials, close: () => { server.closeAllConnections(); server.close(); } };
}

test('over SSH, Engine API requests travel through docker system dial-stdio, one kept-alive connection for many', async (t) => {
  const remote = await fakeRemote((_m, url) => ({ status: 200, body: url.endsWith('/version') ? { Version: '26.1.5' } : { Id: 'abc', State: { Running: true } } }));
  t.teardown(remote.close);
  const docker = dockerEngine(remote.transport);
  t.is(dockerEngine(remote.transport), docker, 'one client per transport');
  t.is(((await docker.version()) as { Version: string }).Version, '26.1.5');
  for (let i = 0; i < 3; i++) t.is((await docker.getContainer('web').inspect()).Id, 'abc');
  t.deepEqual(remote.requests, ['GET /version', 'GET /containers/web/json', 'GET /containers/web/json', 'GET /containers/web/json']);
  t.is(remote.dials(), 1);
});

test('a refusal becomes DOCKER_API naming the host, the request and the daemon\'s words; 404 is "none" for engineFind', async (t) => {
  const remote = await fakeRemote((_m, url) => url.includes('/missing/')
    ? { status: 404, body: { message: 'No such container: missing' } }
    : { status: 409, body: { message: 'Conflict. The container name "/web" is already in use' } });
  t.teardown(remote.close);
  const e = await t.throwsAsync(engineCall(remote.transport, 'create container web', (d) => d.createContainer({ name: 'web', Image: 'x' })), { instanceOf: MigrateError });
  t.is(e!.code, 'DOCKER_API');
  t.is(e!.host, 'root@fake');
  t.regex(e!.message, /Docker refused to create container web: Conflict\. The container name "\/web" is already in use/);
  t.is(await engineFind(remote.transport, 'inspect container missing', (d) => d.getContainer('missing').inspect()), undefined);
  await t.throwsAsync(engineFind(remote.transport, 'inspect container web', (d) => d.getContainer('web').inspect()), { message: /Conflict/ });
});
