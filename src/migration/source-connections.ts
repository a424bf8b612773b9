/**
 * `--tcp close` on the source, once the workload runs on the target: its stopped copy's
 * established connections are reset (reset-connections.sh), so that its clients reconnect at
 * once instead of waiting on a peer that stays stopped while post-copy serves its memory.
 * Only in a network namespace of the workload's own (a container's): never the host's.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { EXIT, hostScript } from '../host-scripts/index.js';

/** How many connections were reset in the namespace of `pid`; undefined when that namespace is not the workload's alone. */
export async function resetConnections(t: Transport, pid: number, label: string): Promise<number | undefined> {
  if (!(pid > 0)) return undefined;
  const r = await t.exec(hostScript('reset-connections', String(pid)), { allowFailure: true });
  if (r.exitCode === EXIT.NOT_ITS_OWN_NETNS) return undefined; // --network host or container:…
  if (r.exitCode !== 0) {
    throw new MigrateError('COMMAND_FAILED', `resetting the connections of ${label} on the source failed (exit ${r.exitCode})`, {
      host: t.name, stderr: r.stderr, hint: 'ss (iproute2) and nsenter (util-linux) must be installed there',
    });
  }
  return Number(r.stdout.trim());
}
