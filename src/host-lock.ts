/**
 * A host-wide lock held through a transport: `flock` runs on the host and keeps the lock until
 * its stdin closes — when we release it, or when the controller or the connection dies, so a
 * crash can never leave a host locked. A workload's lock lives in a directory only root may use
 * (LOCK_DIR), where no other user can take it first, hold it, or put something else at its name.
 */
import { posix } from 'node:path';
import type { Transport } from '../transports/transport.js';
import { MigrateError, isMigrateError } from '../transports/errors.js';
import { EXIT, hostScript } from './host-scripts/index.js';
import { requirePrivateDir } from './private-dir.js';

/** Where the workload locks live on a host: root's alone, 0700 (made when missing). */
export const LOCK_DIR = '/run/migrate/locks';

/** The lock of one workload, e.g. `workloadLockPath('runc-web')`. */
export const workloadLockPath = (name: string): string => `${LOCK_DIR}/${name}.lock`;

export interface HostLock {
  release(): Promise<void>;
}

export async function lockHost(t: Transport, path: string, what: string, waitS = 0, { dir = false } = {}): Promise<HostLock> {
  const cmd = t.spawn(hostScript('lock-host', path, String(waitS), ...(dir ? ['dir'] : [])));
  const outcome = await new Promise<{ locked: boolean; exitCode?: number; stderr?: string }>((resolve) => {
    cmd.stdout.once('data', () => resolve({ locked: true }));
    cmd.done.then((r) => resolve({ locked: false, exitCode: r.exitCode }),
      (e: unknown) => resolve({ locked: false, ...(isMigrateError(e) ? { exitCode: e.exitCode, stderr: e.stderr } : { stderr: String(e) }) }));
  });
  if (!outcome.locked) {
    cmd.kill();
    if (outcome.exitCode === EXIT.LOCK_HELD) {
      throw new MigrateError('LOCKED', `${what} is locked by another migrate run`, {
        host: t.name,
        hint: `wait for the other run to finish (lock: ${path}); a lock dies with the process that holds it`,
      });
    }
    throw new MigrateError('PREFLIGHT', `cannot take the lock ${path} for ${what}`, {
      host: t.name,
      stderr: outcome.stderr,
      hint: `check that ${path.slice(0, path.lastIndexOf('/')) || '/'} exists and is writable there`,
    });
  }
  cmd.stdout.resume();
  return {
    release: async () => {
      cmd.stdin.end();
      await cmd.done.catch(() => {});
    },
  };
}

/**
 * lockHost for a lock whose directory must be root's alone: made 0700 when missing, refused
 * (PREFLIGHT) when another user owns it, it is not 0700, or it is a symlink.
 */
export async function lockInPrivateDir(t: Transport, path: string, what: string): Promise<HostLock> {
  await requirePrivateDir(t, posix.dirname(path), 'the lock directory', { exactMode: 0o700 });
  return lockHost(t, path, what);
}
