/**
 * Where to connect and with what: parses `ssh://[user@]host[:port]` and completes it the way
 * OpenSSH would, by asking `ssh -G` for the effective ~/.ssh/config settings (HostName, User,
 * Port, IdentityFile, UserKnownHostsFile, IdentityAgent). Explicit options win over the config.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { MigrateError } from '../errors.js';

export interface SshOptions {
  /** Private key files to offer (first that the server accepts wins). */
  identityFiles?: string[];
  /** known_hosts files to check the host key against. */
  knownHostsFiles?: string[];
  /** Skip host key verification. Dangerous: emits a warning on every connection. */
  insecureIgnoreHostKey?: boolean;
  /** ssh-agent socket; defaults to $SSH_AUTH_SOCK. */
  agent?: string;
  connectTimeoutMs?: number;
  /** Attempts for connection failures (authentication and host key failures are never retried). */
  retries?: number;
  /** TCP_NODELAY on the connection (default true); false only to measure what it saves (bench:transport). */
  noDelay?: boolean;
}

export interface Destination {
  /** What the user wrote, e.g. ssh://root@10.231.0.2 */
  url: string;
  user: string;
  host: string;
  port: number;
  identityFiles: string[];
  knownHostsFiles: string[];
  agent?: string;
}

/** How a destination is named in messages: `user@host`, with `:port` when not 22. */
export function destinationName(d: Pick<Destination, 'user' | 'host' | 'port'>): string {
  return `${d.user}@${d.host}${d.port === 22 ? '' : `:${d.port}`}`;
}

export function parseSshUrl(url: string): { user?: string; host: string; port?: number } {
  const m = /^ssh:\/\/(?:([^@/:]+)@)?(\[[^\]]+\]|[^:/@]+)(?::(\d+))?\/?$/.exec(url);
  if (!m) {
    throw new MigrateError('BAD_INPUT', `"${url}" is not an SSH destination`, {
      hint: 'write it as ssh://[user@]host[:port], e.g. ssh://root@10.0.0.2',
    });
  }
  const host = m[2]!.replace(/^\[|\]$/g, '');
  for (const [what, value] of [['host', host], ['user', m[1]]] as const) {
    if (value?.startsWith('-')) {
      throw new MigrateError('BAD_INPUT', `the ${what} "${value}" in "${url}" starts with "-"; ssh would read it as an option`, {
        hint: 'give a host name or address (and a user name) that does not start with "-"',
      });
    }
  }
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) {
    throw new MigrateError('BAD_INPUT', `port ${port} in "${url}" is out of range`, { hint: 'use a port from 1 to 65535' });
  }
  return { user: m[1], host, port };
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** Effective OpenSSH settings for the host, or {} when `ssh` is not installed. */
function openSshConfig(host: string, user?: string, port?: number): Map<string, string[]> {
  const args = ['-G'];
  if (user) args.push('-l', user);
  if (port) args.push('-p', String(port));
  args.push('--', host); // never an option, whatever the name (parseSshUrl refuses a leading "-" too)
  const settings = new Map<string, string[]>();
  let out: string;
  try {
    out = execFileSync('ssh', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
  } catch {
    return settings;
  }
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    if (i <= 0) continue;
    const key = line.slice(0, i).toLowerCase();
    const list = settings.get(key) ?? [];
    list.push(line.slice(i + 1));
    settings.set(key, list);
  }
  return settings;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function resolveDestination(url: string, options: SshOptions = {}, env = process.env): Destination {
  const parsed = parseSshUrl(url);
  const cfg = openSshConfig(parsed.host, parsed.user, parsed.port);
  const first = (k: string) => cfg.get(k)?.[0];
  const user = parsed.user ?? first('user') ?? userInfo().username;
  const host = first('hostname') ?? parsed.host;
  const port = parsed.port ?? Number(first('port') ?? 22);

  const fromEnv = (name: string) => (env[name] ? env[name]!.split(':').filter(Boolean) : undefined);
  const configKeys = (cfg.get('identityfile') ?? []).map(expandHome).filter((f) => existsSync(f));
  const identityFiles = options.identityFiles ?? fromEnv('MIGRATE_SSH_KEY') ??
    (configKeys.length > 0 ? configKeys : DEFAULT_KEYS.map((k) => join(homedir(), '.ssh', k)).filter((f) => existsSync(f)));
  const configKnown = (cfg.get('userknownhostsfile') ?? []).flatMap((v) => v.split(/\s+/)).map(expandHome);
  const userKnown = options.knownHostsFiles ?? fromEnv('MIGRATE_KNOWN_HOSTS') ??
    (configKnown.length > 0 ? configKnown : [join(homedir(), '.ssh', 'known_hosts')]);
  const knownHostsFiles = [...new Set([...userKnown, '/etc/ssh/ssh_known_hosts'])];
  const configAgent = first('identityagent');
  const agent = options.agent ?? (configAgent && configAgent !== 'none' && configAgent !== 'SSH_AUTH_SOCK' ? expandHome(configAgent) : env.SSH_AUTH_SOCK);
  return { url, user, host, port, identityFiles, knownHostsFiles, agent: agent || undefined };
}
