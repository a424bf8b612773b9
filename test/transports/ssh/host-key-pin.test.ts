/**
 * With --insecure-accept-host-key nothing checks a host's key against known_hosts, but a
 * transport pins the first key a host showed it: a reconnect within the same run (after a lost
 * connection) that meets another key is refused, so whoever takes over the address mid-run does
 * not get the rest of the migration. An ssh2 server on this machine (FakeSshHost) plays the host, and changes
 * its key between connections.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMigrateError } from '../../../transports/errors.js';
import { HostKeyPin, checkPin } from '../../../transports/ssh/host-key-pin.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { FakeSshHost, newSshKey } from '../../helpers/fake-ssh-host.js';
import { scratchDir } from '../../helpers/scratch.js';


test('the pin: the first accepted key stays; the same key passes, another one is "changed"', (t) => {
  const [k1, k2] = [Buffer.from('key one'), Buffer.from('key two')];
  t.deepEqual(checkPin(undefined, k1), { status: 'first' });
  t.deepEqual(checkPin(k1, Buffer.from('key one')), { status: 'same' });
  t.deepEqual(checkPin(k1, k2), { status: 'changed', pinned: k1 });
  const pin = new HostKeyPin();
  t.is(pin.check(k2).status, 'first', 'a key only checked (then refused elsewhere) is not pinned');
  pin.accept(k1);
  pin.accept(k2);
  t.is(pin.check(k1).status, 'same', 'the first accepted key stays pinned');
  t.is(pin.check(k2).status, 'changed');
});

test('--insecure-accept-host-key: a reconnect to the same key works, one meeting another key is refused (SSH_HOST_KEY_CHANGED)', async (t) => {
  const dir = scratchDir(t, 'pin');
  const clientKey = join(dir, 'id');
  writeFileSync(clientKey, newSshKey(), { mode: 0o600 });
  writeFileSync(join(dir, 'known_hosts'), '');
  const [first, other] = [newSshKey(), newSshKey()];
  const host = new FakeSshHost();
  await host.start(first);
  const warnings: string[] = [];
  const ssh = new SshTransport(`ssh://root@127.0.0.1:${host.port}`,
    { identityFiles: [clientKey], knownHostsFiles: [join(dir, 'known_hosts')], insecureIgnoreHostKey: true, retries: 1 }, (m) => warnings.push(m));
  t.teardown(async () => {
    await ssh.close();
    await host.stop();
  });

  t.is((await ssh.exec(['true'])).exitCode, 0);
  t.true(warnings.some((w) => /NOT verified/.test(w)), 'the unverified key is still warned about');

  await host.stop();
  await host.start(first);
  t.is((await ssh.exec(['true'])).exitCode, 0, 'a reconnect meeting the same key goes on');

  await host.stop();
  await host.start(other);
  const e = await t.throwsAsync(ssh.exec(['true']));
  t.true(isMigrateError(e, 'SSH_HOST_KEY_CHANGED'), String(e));
  t.regex(String(e), /changed during this run/);
  t.regex(String(e), /first SHA256:\S+, now SHA256:\S+/);
});
