/**
 * Access to the two-host lab for tests. Tests never skip because a lab part is missing: the
 * first call brings the lab up (idempotent and quick when it already runs); if that fails the
 * test fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface Lab {
  source: string;
  target: string;
  sshKey: string;
  knownHosts: string;
  sourceDocker: string;
  targetDocker: string;
  image: string;
  memload: string;
}

let lab: Lab | undefined;

export function ensureLab(): Lab {
  if (lab) return lab;
  try {
    execFileSync('bash', [join(REPO, 'lab/lab.sh'), 'status'], { stdio: 'ignore' });
  } catch {
    execFileSync('bash', [join(REPO, 'lab/lab.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const env: Record<string, string> = {};
  const text = execFileSync('bash', [join(REPO, 'lab/lab.sh'), 'env'], { encoding: 'utf8' });
  for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  lab = {
    source: env.MIGRATE_LAB_SOURCE!,
    target: env.MIGRATE_LAB_TARGET!,
    sshKey: env.MIGRATE_LAB_SSH_KEY!,
    knownHosts: env.MIGRATE_LAB_KNOWN_HOSTS!,
    sourceDocker: env.MIGRATE_LAB_SOURCE_DOCKER_HOST!,
    targetDocker: env.MIGRATE_LAB_TARGET_DOCKER_HOST!,
    image: env.MIGRATE_LAB_IMAGE!,
    memload: join(REPO, 'build/memload'),
  };
  return lab;
}

/** Drops every SSH connection host B's sshd serves (its per-connection children die). */
export async function cutSshToB(): Promise<void> {
  await new Promise<void>((resolve) => execFile('sh', ['-c', 'pkill -KILL -P "$(cat /run/migrate-lab/b/sshd.pid)"'], () => resolve()));
}

export function sshOpts(l: Lab) {
  return { identityFiles: [l.sshKey], knownHostsFiles: [l.knownHosts] };
}
