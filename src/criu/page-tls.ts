/**
 * The page channels authenticated and encrypted: CRIU's page server on the target, the lazy
 * dump's page server on the source, and whoever connects to them (a dump, a lazy-pages daemon)
 * speak TLS (CRIU's `--tls`, GnuTLS) with one credential made for each run: a fresh self-signed
 * ECDSA P-256 certificate and key, written into the run's 0700 directory on both hosts and
 * trusted as the only CA. The server requires the client's certificate (CRIU: GNUTLS_CERT_REQUIRE)
 * and the client checks the server's, so a local process that reaches a loopback port first —
 * another user, a `--network host` container, a listener squatting the port — cannot read or
 * feed pages: it fails the handshake and the migration rolls back (verified with CRIU 4.2.1: a
 * certificate from another run is refused on both sides, "The certificate is NOT trusted").
 * The name check (`--tls-no-cn-verify`) is off: the channel goes through relays on loopback
 * addresses, and the per-run CA alone decides.
 */
import { posix } from 'node:path';
import selfsigned from 'selfsigned';
import type { Transport } from '../../transports/transport.js';
import { writeFileVia } from '../../transports/files.js';

/** Where a run's credential lives on both hosts (the same paths: the run directory is named alike). */
export interface TlsFiles { cert: string; key: string }

export const tlsFilesIn = (runDir: string): TlsFiles => ({ cert: posix.join(runDir, 'pages.crt'), key: posix.join(runDir, 'pages.key') });

/** CRIU's command-line options for a TLS page channel. */
export const tlsArgs = (f: TlsFiles | undefined): string[] =>
  f ? ['--tls', '--tls-cacert', f.cert, '--tls-cert', f.cert, '--tls-key', f.key, '--tls-no-cn-verify'] : [];

/** The same as runc.conf lines (dumps through runc and Docker). */
export const tlsConfLines = (f: TlsFiles | undefined): string[] =>
  f ? ['tls', `tls-cacert ${f.cert}`, `tls-cert ${f.cert}`, `tls-key ${f.key}`, 'tls-no-cn-verify'] : [];

export interface PageCredential { cert: string; key: string }

/** A fresh credential: self-signed, its own CA, valid from an hour ago (clock skew) for two days. */
export async function newPageCredential(now = Date.now()): Promise<PageCredential> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'migrate page channel' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
    notBeforeDate: new Date(now - 3600e3), notAfterDate: new Date(now + 2 * 86400e3),
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true }],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Writes the credential on each host (0600, in the run's 0700 directory). */
export async function installPageCredential(hosts: readonly Transport[], f: TlsFiles, c: PageCredential): Promise<void> {
  await Promise.all(hosts.flatMap((t) => [writeFileVia(t, f.cert, c.cert), writeFileVia(t, f.key, c.key)]));
}

/** What CRIU logs (at -v4) once a TLS handshake on a page channel succeeded (tls.c). */
export const HANDSHAKE_DONE = 'TLS handshake completed';

/**
 * Resolves true once `log` (a CRIU log at -v4 on `t`'s host) says the page channel's handshake
 * completed, false when `withinMs` passed first or `stop()` was called. On a direct page channel
 * nothing of migrate's sits in the stream to see it: this is how a channel whose port someone
 * else caught (and answers nothing) is told from a slow one.
 */
export function watchHandshake(t: Transport, log: string, withinMs: number, everyMs = 200): { seen: Promise<boolean>; stop(): void } {
  let stopped = false;
  const seen = (async () => {
    for (const until = Date.now() + withinMs; !stopped && Date.now() < until;) {
      const r = await t.exec(['grep', '-q', '-F', HANDSHAKE_DONE, log], { allowFailure: true }).catch(() => undefined);
      if (r?.exitCode === 0) return true;
      await new Promise((res) => setTimeout(res, everyMs).unref());
    }
    return false;
  })();
  return { seen, stop: () => { stopped = true; } };
}
