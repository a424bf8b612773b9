/**
 * Opens one authenticated, host-key-verified ssh2 connection. Connection failures (refused,
 * timed out, unreachable) are retried with p-retry; authentication and host key failures are
 * not: trying again cannot fix them.
 */
import { readFileSync } from 'node:fs';
import pRetry, { AbortError } from 'p-retry';
import { Client, type AuthHandlerMiddleware, type ConnectConfig } from 'ssh2';
import { MigrateError } from '../errors.js';
import { destinationName, type Destination, type SshOptions } from './destination.js';
import type { HostKeyPin } from './host-key-pin.js';
import { fingerprint, hostKeyAlgorithms, hostPattern, keyType, lookupKnownHosts, verifyHostKey } from './known-hosts.js';

export type Warn = (message: string) => void;

/** `pin` holds the first host key accepted; every later connection must meet the same one. */
export async function connectSsh(dest: Destination, options: SshOptions, warn: Warn, pin: HostKeyPin): Promise<Client> {
  const attempts = options.retries ?? 3;
  return pRetry(() => connectOnce(dest, options, warn, pin), {
    retries: attempts - 1,
    minTimeout: 300,
    maxTimeout: 2000,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0) warn(`ssh ${dest.user}@${dest.host}:${dest.port}: attempt ${attemptNumber} failed (${error.message.split('\n')[0]}); retrying`);
    },
  });
}

function authMethods(dest: Destination): AuthHandlerMiddleware {
  const methods: Array<Record<string, unknown>> = [];
  if (dest.agent) methods.push({ type: 'agent', username: dest.user, agent: dest.agent });
  for (const file of dest.identityFiles) {
    let key: Buffer;
    try {
      key = readFileSync(file);
    } catch {
      continue;
    }
    methods.push({ type: 'publickey', username: dest.user, key });
  }
  let next = 0;
  return ((_left: unknown, _partial: unknown, cb: (m: unknown) => void) => cb(methods[next++] ?? false)) as unknown as AuthHandlerMiddleware;
}

function connectOnce(dest: Destination, options: SshOptions, warn: Warn, pin: HostKeyPin): Promise<Client> {
  const where = destinationName(dest);
  const known = options.insecureIgnoreHostKey ? [] : lookupKnownHosts(dest.knownHostsFiles, dest.host, dest.port);
  let hostKeyError: MigrateError | undefined;

  const config: ConnectConfig = {
    host: dest.host,
    port: dest.port,
    username: dest.user,
    readyTimeout: options.connectTimeoutMs ?? 10_000,
    keepaliveInterval: 5_000,
    keepaliveCountMax: 3,
    authHandler: authMethods(dest),
    hostVerifier: (key: Buffer) => {
      const fp = `${keyType(key)} ${fingerprint(key)}`;
      const pinned = pin.check(key);
      if (pinned.status === 'changed') {
        hostKeyError = new MigrateError('SSH_HOST_KEY_CHANGED', `host key of ${where} changed during this run (first ${fingerprint(pinned.pinned)}, now ${fingerprint(key)}); this may be an attack`, {
          host: where,
          hint: 'migrate keeps the first key each host showed for the whole run (--insecure-accept-host-key too): find out why the host now shows another key before running again; ' +
            'add its real key to known_hosts so that it is checked',
        });
        return false;
      }
      if (options.insecureIgnoreHostKey) {
        warn(`WARNING: host key of ${where} NOT verified (${fp}); anyone on the path can impersonate it`);
        pin.accept(key);
        return true;
      }
      const verdict = verifyHostKey(known, key);
      if (verdict.status === 'trusted') {
        pin.accept(key);
        return true;
      }
      const files = dest.knownHostsFiles.join(', ');
      if (verdict.status === 'unknown') {
        hostKeyError = new MigrateError('SSH_HOST_KEY_UNKNOWN', `host key of ${where} is unknown (${fp})`, {
          host: where,
          hint: `check the fingerprint out of band, then add it: ssh-keyscan -p ${dest.port} ${dest.host} >> ~/.ssh/known_hosts ` +
            `(looked in ${files}); --insecure-accept-host-key skips the check`,
        });
      } else if (verdict.status === 'changed') {
        const at = verdict.expected.map((k) => `${k.file}:${k.line}`).join(', ');
        hostKeyError = new MigrateError('SSH_HOST_KEY_CHANGED', `host key of ${where} has CHANGED (now ${fp}); this may be an attack`, {
          host: where,
          hint: `if the host was really reinstalled, remove the old entry (${at}) with ssh-keygen -R '${hostPattern(dest.host, dest.port)}' and add the new key`,
        });
      } else {
        hostKeyError = new MigrateError('SSH_HOST_KEY_CHANGED', `host key of ${where} is marked @revoked (${fp})`, {
          host: where,
          hint: `${verdict.entry.file}:${verdict.entry.line} revokes this key; do not connect`,
        });
      }
      return false;
    },
  };
  const algs = hostKeyAlgorithms(known);
  if (algs.length > 0) config.algorithms = { serverHostKey: algs as never };

  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    // Without TCP_NODELAY a command's few small packets meet Nagle's algorithm on one side and
    // a delayed ACK on the other: about 40 ms added to most commands (bench:transport measures
    // both). Large writes (the page and image streams) are whole segments either way.
    client.once('connect', () => client.setNoDelay(options.noDelay ?? true));
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    client.once('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      if (hostKeyError) return reject(new AbortError(hostKeyError));
      if (err.level === 'client-authentication') {
        const offered = [dest.agent ? 'ssh-agent' : '', ...dest.identityFiles].filter(Boolean).join(', ') || 'no keys at all';
        return reject(new AbortError(new MigrateError('SSH_AUTH', `${where} refused authentication`, {
          host: where,
          hint: `offered ${offered}; pass the right key with --identity FILE (or MIGRATE_SSH_KEY), or add it to ssh-agent`,
          cause: err,
        })));
      }
      reject(new MigrateError('SSH_UNREACHABLE', `cannot connect to ${dest.host}:${dest.port} (${err.code ?? err.message})`, {
        host: where,
        hint: 'check the address and port, that sshd runs there, and that no firewall is in the way',
        cause: err,
      }));
    });
    client.connect(config);
  });
}
