/** Where runc keeps its state of Docker's containers on a host (for runc commands Docker has no verb for). */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';

/**
 * runc's state directory for Docker's containers: `<dockerd exec-root>/runtime-runc/moby`
 * (/run/docker/... unless dockerd runs with --exec-root), found by the container's state.json.
 */
export async function dockerRuncRoot(t: Transport, id: string): Promise<string> {
  const r = await t.exec(hostScript('find-runc-state', id));
  const found = r.stdout.trim();
  if (!found) {
    throw new MigrateError('PREFLIGHT', `cannot find runc's state of container ${id.slice(0, 12)} (looked for runtime-runc/moby/${id.slice(0, 12)}... under /run)`, {
      host: t.name, hint: 'pre-copy needs Docker with the runc runtime; use --strategy cold or postcopy',
    });
  }
  return posix.dirname(posix.dirname(found));
}
