import test from 'ava';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { newPageCredential, tlsArgs, tlsConfLines, tlsFilesIn } from '../../../src/criu/page-tls.js';
import { dirsUnder } from '../../../src/migration/workload.js';

test('a run\'s credential: a fresh self-signed ECDSA CA certificate and its key, valid around now only', async (t) => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const c = await newPageCredential(now);
  const cert = new X509Certificate(c.cert);
  t.true(cert.ca);
  t.true(cert.checkPrivateKey(createPrivateKey(c.key)));
  t.is(cert.publicKey.asymmetricKeyType, 'ec');
  t.true(cert.verify(cert.publicKey), 'self-signed');
  t.true(Date.parse(cert.validFrom) <= now && Date.parse(cert.validTo) <= now + 3 * 86400e3);
  const other = await newPageCredential(now);
  t.not(other.key, c.key, 'one per run');
});

test('every run directory names its credential; CRIU gets it as options or runc.conf lines', (t) => {
  const d = dirsUnder('/var/lib/migrate/abc-1');
  t.deepEqual(d.tls, tlsFilesIn('/var/lib/migrate/abc-1'));
  t.deepEqual(tlsArgs(d.tls), ['--tls', '--tls-cacert', '/var/lib/migrate/abc-1/pages.crt', '--tls-cert', '/var/lib/migrate/abc-1/pages.crt', '--tls-key', '/var/lib/migrate/abc-1/pages.key', '--tls-no-cn-verify']);
  t.deepEqual(tlsConfLines(d.tls), ['tls', 'tls-cacert /var/lib/migrate/abc-1/pages.crt', 'tls-cert /var/lib/migrate/abc-1/pages.crt', 'tls-key /var/lib/migrate/abc-1/pages.key', 'tls-no-cn-verify']);
  t.deepEqual(tlsArgs(undefined), []);
});
