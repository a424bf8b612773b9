/**
 * CRIU's page server with the run's credential (issue 18, item 1), driven by a TLS client in
 * this process standing in for a dump: the holder of the run's credential completes the
 * handshake; a local process without it — the first to reach the port — gets no page data in
 * and none out: the handshake fails and the page server gives up (the migration would roll back).
 */
import test from 'ava';
import { connect } from 'node:tls';
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTransport } from '../../../transports/local.js';
import { installPageCredential, newPageCredential, tlsFilesIn } from '../../../src/criu/page-tls.js';
import { startPageServer } from '../../../src/criu/services.js';
import { ensureLab } from '../../helpers/lab.js';

ensureLab(); // CRIU is part of the lab
const local = new LocalTransport();

async function server() {
  const root = mkdtempSync('/var/lib/migrate-tls-test-');
  const images = join(root, 'images');
  const work = join(root, 'work');
  await local.exec(['mkdir', '-p', images, work]);
  const files = tlsFilesIn(root);
  const cred = await newPageCredential();
  await installPageCredential([local], files, cred);
  const ps = await startPageServer(local, { imagesDir: images, workDir: work, tls: files });
  return { ps, cred, root, images };
}

function handshake(port: number, cred?: { cert: string; key: string }): Promise<{ ok: boolean; received: number; error?: string }> {
  return new Promise((resolve) => {
    let received = 0;
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(cred ? { cert: cred.cert, key: cred.key, ca: cred.cert } : {}) });
    s.on('data', (b: Buffer) => (received += b.length));
    s.once('secureConnect', () => {
      // A client with the credential is let in; then it hangs up (no dump follows).
      setTimeout(() => { s.end(); resolve({ ok: s.authorized || !!cred, received }); }, 300);
    });
    s.once('error', (e) => resolve({ ok: false, received, error: e.message }));
    s.once('close', () => resolve({ ok: false, received }));
  });
}

test('a client without the run\'s credential fails the handshake; the page server gives up and wrote nothing', async (t) => {
  const { ps, images, root } = await server();
  try {
    const r = await handshake(ps.port);
    t.false(r.ok, JSON.stringify(r));
    await t.throwsAsync(ps.done, { message: /criu page-server failed/ });
    t.deepEqual(readdirSync(images), []);
  } finally {
    ps.kill();
    await local.exec(['rm', '-rf', root]);
  }
});

test('a client with another run\'s credential is refused too; with this run\'s it is let in', async (t) => {
  const a = await server();
  try {
    const other = await newPageCredential();
    t.false((await handshake(a.ps.port, other)).ok);
    await t.throwsAsync(a.ps.done);
  } finally {
    a.ps.kill();
    await local.exec(['rm', '-rf', a.root]);
  }
  const b = await server();
  try {
    const r = await handshake(b.ps.port, b.cred);
    t.true(r.ok, JSON.stringify(r));
  } finally {
    b.ps.kill();
    await local.exec(['rm', '-rf', b.root]);
  }
});
