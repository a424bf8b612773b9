/**
 * The soft-dirty guest (lab/guest): a QEMU (TCG) machine booting Debian's cloud kernel, which
 * tracks dirty pages, reached over SSH like any host. It plays two hosts: A (its root mount
 * namespace) and B (a mount namespace of its own with a private /var/lib/migrate and its own
 * sshd), sharing the rest of the filesystem and the PID space, as the main lab's hosts do.
 * Never skipped: the first call boots it (the images are built and cached when missing); if
 * that fails, the test fails.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './lab.js';

export interface Guest {
  a: string;
  b: string;
  sshKey: string;
  knownHosts: string;
}

let guest: Guest | undefined;

export function ensureGuest(): Guest {
  if (guest) return guest;
  execFileSync('bash', [join(REPO, 'lab/guest/guest.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const env: Record<string, string> = {};
  const text = execFileSync('bash', [join(REPO, 'lab/guest/guest.sh'), 'env'], { encoding: 'utf8' });
  for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  guest = { a: env.MIGRATE_GUEST_A!, b: env.MIGRATE_GUEST_B!, sshKey: env.MIGRATE_GUEST_SSH_KEY!, knownHosts: env.MIGRATE_GUEST_KNOWN_HOSTS! };
  return guest;
}

export const guestSshOpts = (g: Guest) => ({ identityFiles: [g.sshKey], knownHostsFiles: [g.knownHosts] });

let guestDocker = false;

/** The guest with a dockerd on each of its hosts and the workload image (lab/guest/docker.sh: idempotent). */
export function ensureGuestDocker(): Guest {
  const g = ensureGuest();
  if (!guestDocker) execFileSync('bash', [join(REPO, 'lab/guest/docker.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  guestDocker = true;
  return g;
}
