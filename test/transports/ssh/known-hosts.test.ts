import test from 'ava';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostKeyAlgorithms, lookupKnownHosts, verifyHostKey } from '../../../transports/ssh/known-hosts.js';

function blob(type: string, seed: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(seed)]);
}
const k1 = blob('ssh-ed25519', 'one');
const k2 = blob('ssh-ed25519', 'two');

function file(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'kh-')), 'known_hosts');
  writeFileSync(f, text);
  return f;
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

test('plain entry: trusted, unknown host, changed key', (t) => {
  const f = file(`# comment\n10.0.0.2,hostb ssh-ed25519 ${k1.toString('base64')}\n`);
  t.is(verifyHostKey(lookupKnownHosts([f], '10.0.0.2', 22), k1).status, 'trusted');
  t.is(verifyHostKey(lookupKnownHosts([f], 'hostb', 22), k1).status, 'trusted');
  t.is(verifyHostKey(lookupKnownHosts([f], '10.0.0.3', 22), k1).status, 'unknown');
  t.is(verifyHostKey(lookupKnownHosts([f], '10.0.0.2', 22), k2).status, 'changed');
});

test('non-standard port uses [host]:port', (t) => {
  const f = file(`[10.0.0.2]:2222 ssh-ed25519 ${k1.toString('base64')}\n`);
  t.is(lookupKnownHosts([f], '10.0.0.2', 22).length, 0);
  t.is(verifyHostKey(lookupKnownHosts([f], '10.0.0.2', 2222), k1).status, 'trusted');
});

test('hashed entries, wildcards and negation', (t) => {
  const f = file([
    `${hashed('secret.example')} ssh-ed25519 ${k1.toString('base64')}`,
    `*.lab,!bad.lab ssh-ed25519 ${k2.toString('base64')}`,
  ].join('\n'));
  t.is(verifyHostKey(lookupKnownHosts([f], 'secret.example', 22), k1).status, 'trusted');
  t.is(verifyHostKey(lookupKnownHosts([f], 'a.lab', 22), k2).status, 'trusted');
  t.is(lookupKnownHosts([f], 'bad.lab', 22).length, 0);
});

test('@revoked wins, @cert-authority is ignored, missing files are skipped', (t) => {
  const f = file(`@revoked * ssh-ed25519 ${k1.toString('base64')}\n@cert-authority * ssh-ed25519 ${k2.toString('base64')}\n`);
  t.is(verifyHostKey(lookupKnownHosts(['/nonexistent', f], 'h', 22), k1).status, 'revoked');
  t.is(verifyHostKey(lookupKnownHosts([f], 'h', 22), k2).status, 'unknown');
});

test('host key algorithms follow the known key types', (t) => {
  const f = file(`h ssh-rsa ${blob('ssh-rsa', 'r').toString('base64')}\nh ssh-ed25519 ${k1.toString('base64')}\n`);
  t.deepEqual(hostKeyAlgorithms(lookupKnownHosts([f], 'h', 22)), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
});
