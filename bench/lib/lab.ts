/**
 * The two-host lab as the benchmarks see it: what `lab/lab.sh env` says, host A (this machine,
 * LocalTransport) and host B (SshTransport). The lab must be up (bash lab/lab.sh up).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalTransport, SshTransport, type Transport } from '../../src/index.js';
import { fail } from './fail.js';

/** The repository root: this file runs as dist/bench/lib/lab.js. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface Lab { url: string; hostSpec: string; key: string; knownHosts: string; image: string }

export interface LabHosts { lab: Lab; a: LocalTransport; b: SshTransport }

export function labEnv(): Lab {
  const text = execFileSync('bash', [join(ROOT, 'lab/lab.sh'), 'env'], { encoding: 'utf8' });
  const env = new Map([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const get = (k: string): string => env.get(k) ?? process.env[k] ?? fail(`lab.sh env gave no ${k}`);
  const url = get('MIGRATE_LAB_TARGET');
  return { url, hostSpec: url.replace(/^ssh:\/\//, ''), key: get('MIGRATE_LAB_SSH_KEY'), knownHosts: get('MIGRATE_LAB_KNOWN_HOSTS'), image: get('MIGRATE_LAB_IMAGE') };
}

/** Transports to both hosts; close B's when done. */
export function labHosts(lab = labEnv()): LabHosts {
  return { lab, a: new LocalTransport(), b: new SshTransport(lab.url, { identityFiles: [lab.key], knownHostsFiles: [lab.knownHosts] }) };
}

/** Arguments for the OpenSSH client to reach B (then the remote command), as a reader of Docker's documentation would. */
export const openSshArgs = (lab: Lab): string[] => ['-i', lab.key, '-o', `UserKnownHostsFile=${lab.knownHosts}`, '-o', 'BatchMode=yes', lab.hostSpec];

/** The device and local address of `t`'s route to `to` (`ip route get`): e.g. A's end of the lab link to B. */
export async function routeTo(t: Transport, to: string): Promise<{ dev: string; src: string }> {
  const line = (await t.exec(['ip', '-o', 'route', 'get', to])).stdout;
  const none = () => fail(`ip route get ${to} on ${t.name} names no device or source: ${line}`);
  return { dev: / dev (\S+)/.exec(line)?.[1] ?? none(), src: / src (\S+)/.exec(line)?.[1] ?? none() };
}

/** B's address on the lab link (from its URL). */
export const targetAddress = (lab: Lab): string => lab.hostSpec.replace(/^.*@/, '').replace(/:\d+$/, '');
