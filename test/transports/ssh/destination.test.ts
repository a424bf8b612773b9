import test from 'ava';
import { parseSshUrl, resolveDestination } from '../../../transports/ssh/destination.js';
import { isMigrateError } from '../../../transports/errors.js';

test('parses ssh URLs', (t) => {
  t.deepEqual(parseSshUrl('ssh://root@10.0.0.2'), { user: 'root', host: '10.0.0.2', port: undefined });
  t.deepEqual(parseSshUrl('ssh://h:2222'), { user: undefined, host: 'h', port: 2222 });
  t.deepEqual(parseSshUrl('ssh://u@[::1]:22'), { user: 'u', host: '::1', port: 22 });
});

test('rejects what is not an ssh URL, with a hint', (t) => {
  for (const bad of ['10.0.0.2', 'ssh://', 'http://x', 'ssh://h:99999']) {
    const e = t.throws(() => parseSshUrl(bad));
    t.true(isMigrateError(e, 'BAD_INPUT'), bad);
    t.regex(e!.message, /ssh:\/\/|port/);
  }
});

test('a host (or user) that starts with "-" is refused before ssh -G could read it as an option', (t) => {
  for (const bad of ['ssh://-oProxyCommand=true', 'ssh://-Fconfig', 'ssh://root@-oLocalCommand=x:22', 'ssh://-oX=y@host']) {
    const e = t.throws(() => resolveDestination(bad, {}, {}));
    t.true(isMigrateError(e, 'BAD_INPUT'), `${bad}: ${String(e)}`);
    t.regex(e!.message, /starts with "-"/);
  }
});

test('explicit keys and known_hosts win; MIGRATE_* env is next', (t) => {
  const d = resolveDestination('ssh://root@h', { identityFiles: ['/k'], knownHostsFiles: ['/kh'] }, {});
  t.deepEqual(d.identityFiles, ['/k']);
  t.is(d.knownHostsFiles[0], '/kh');
  const e = resolveDestination('ssh://root@h', {}, { MIGRATE_SSH_KEY: '/e', MIGRATE_KNOWN_HOSTS: '/ekh' });
  t.deepEqual(e.identityFiles, ['/e']);
  t.is(e.knownHostsFiles[0], '/ekh');
  t.is(e.port, 22);
  t.is(e.user, 'root');
});
