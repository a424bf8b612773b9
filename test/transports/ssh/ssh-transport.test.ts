/**
 * What the SSH transport does when its host drops the connection between commands, against an
 * ssh2 server on this machine (FakeSshHost). The lab test (ssh-transport.lab.test.ts) covers
 * real sshd; these cover the moments a real host cannot be made to hit on purpose.
 */
import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { FakeSshHost, newSshKey } from '../../helpers/fake-ssh-host.js';
import { scratchDir } from '../../helpers/scratch.js';

async function connected(t: ExecutionContext) {
  const dir = scratchDir(t, 'ssh-transport');
  const clientKey = join(dir, 'id');
  writeFileSync(clientKey, newSshKey(), { mode: 0o600 });
  const hostKey = newSshKey();
  const host = new FakeSshHost();
  await host.start(hostKey);
  const ssh = new SshTransport(`ssh://root@127.0.0.1:${host.port}`, { identityFiles: [clientKey], insecureIgnoreHostKey: true, retries: 1 });
  t.is((await ssh.exec(['true'])).exitCode, 0);
  return { ssh, host, hostKey };
}

test('close() after the host dropped the connection returns at once (it used to wait for a close event already past)', async (t) => {
  const { ssh, host } = await connected(t);
  await host.stop();
  const started = Date.now();
  await ssh.close();
  t.true(Date.now() - started < 1000, `close() took ${Date.now() - started} ms`);
});

test('a command right after the host closed the connection runs on a new one', async (t) => {
  const { ssh, host, hostKey } = await connected(t);
  t.teardown(async () => {
    await ssh.close();
    await host.stop();
  });
  await host.stop();
  await host.start(hostKey);
  t.is((await ssh.exec(['true'])).exitCode, 0);
});

test('a command sent the moment the host ends the connection (socket ended, close not yet seen) runs on a new one', async (t) => {
  const { ssh, host } = await connected(t);
  t.teardown(async () => {
    await ssh.close();
    await host.stop();
  });
  // The state the race leaves: ssh2's socket no longer writable, no 'end' or 'close' handled
  // yet. Ending the socket from this side gets there synchronously; the host stays up.
  const client = await (ssh as unknown as { client: Promise<ssh2.Client> }).client;
  (client as unknown as { _sock: { end(): void } })._sock.end();
  t.is((await ssh.exec(['true'])).exitCode, 0);
});
