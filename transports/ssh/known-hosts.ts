/**
 * known_hosts lookup, as OpenSSH does it: plain and hashed (`|1|salt|hash`) host patterns,
 * `[host]:port` for non-standard ports, `*`/`?` wildcards and `!` negation; `@revoked` lines
 * reject a key, `@cert-authority` lines are ignored (no certificate support).
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface KnownKey {
  type: string; // ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...
  blob: Buffer;
  file: string;
  line: number;
  revoked: boolean;
}

export type Verdict =
  | { status: 'trusted'; entry: KnownKey }
  | { status: 'unknown' }
  | { status: 'changed'; expected: KnownKey[] }
  | { status: 'revoked'; entry: KnownKey };

/** The name OpenSSH looks up: `host` for port 22, `[host]:port` otherwise. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(name);
}

function hashedMatch(field: string, name: string): boolean {
  const [, magic, salt, hash] = field.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return mac === hash;
}

function hostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatch(field, name);
  let matched = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) {
      matched = true;
    }
  }
  return matched;
}

/** All keys the given known_hosts files hold for host:port. Missing files are skipped. */
export function lookupKnownHosts(files: readonly string[], host: string, port: number): KnownKey[] {
  const name = hostPattern(host, port);
  const keys: KnownKey[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const fields = line.split(/\s+/);
      let revoked = false;
      if (fields[0]?.startsWith('@')) {
        const marker = fields.shift();
        if (marker === '@cert-authority') return;
        revoked = marker === '@revoked';
      }
      const [hosts, type, b64] = fields;
      if (!hosts || !type || !b64 || !hostsFieldMatches(hosts, name)) return;
      keys.push({ type, blob: Buffer.from(b64, 'base64'), file, line: i + 1, revoked });
    });
  }
  return keys;
}

/** Decides about the key a server presented. */
export function verifyHostKey(known: readonly KnownKey[], presented: Buffer): Verdict {
  const revoked = known.find((k) => k.revoked && k.blob.equals(presented));
  if (revoked) return { status: 'revoked', entry: revoked };
  const trusted = known.find((k) => !k.revoked && k.blob.equals(presented));
  if (trusted) return { status: 'trusted', entry: trusted };
  const candidates = known.filter((k) => !k.revoked);
  return candidates.length === 0 ? { status: 'unknown' } : { status: 'changed', expected: candidates };
}

/** Host key algorithms to ask the server for, so it presents a key type we can check. */
export function hostKeyAlgorithms(known: readonly KnownKey[]): string[] {
  const algs = new Set<string>();
  for (const k of known) {
    if (k.revoked) continue;
    if (k.type === 'ssh-rsa') ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'].forEach((a) => algs.add(a));
    else algs.add(k.type);
  }
  return [...algs];
}

/** The key type and blob inside an SSH public key blob (first field is the type string). */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}
