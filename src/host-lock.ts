/**
 * A host-wide lock held through a transport: `flock` runs on the host and keeps the lock until
 * its stdin closes — when we release it, or when the controller or the connection dies, so a
 * crash can never leave a host locked.
 */
import type { Transport } from '../transports/transport.js';
import { MigrateError } from './errors.js';

export interface HostLock {
  release(): Promise<void>;
}

export async function lockHost(t: Transport, path: string, what: string, waitS = 0): Promise<HostLock> {
  const cmd = t.spawn(['flock', '-w', String(waitS), path, 'sh', '-c', 'echo locked; exec cat > /dev/null']);
  const locked = await new Promise<boolean>((resolve) => {
    cmd.stdout.once('data', () => resolve(true));
    cmd.done.then(() => resolve(false), () => resolve(false));
  });
  if (!locked) {
    cmd.kill();
    throw new MigrateError('LOCKED', `${what} is locked by another migrate run`, {
      host: t.name,
      hint: `wait for the other run to finish (lock: ${path}); a lock dies with the process that holds it`,
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
