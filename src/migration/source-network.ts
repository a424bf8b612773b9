/**
 * The network of a workload's stopped copy on the source:
 * - `--tcp close`, once the workload runs on the target: a container's established connections
 *   are reset in its own network namespace (reset-connections.sh, never the host's), so that its
 *   clients reconnect at once instead of waiting on a peer that stays stopped while post-copy
 *   serves its memory;
 * - a rollback: the lock CRIU's dump left is lifted (unlock-network.sh) before it resumes — its
 *   namespace's, and the connections `--tcp keep` put in repair mode — or it would run cut off.
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

/**
 * Lifts the network lock a leave-stopped dump left on the workload of `pid` (and its descendants).
 * Throws when a lock is still there, saying how to lift it by hand.
 */
export async function unlockNetwork(t: Transport, pid: number, label: string): Promise<void> {
  const r = await t.exec(hostScript('unlock-network', String(pid)), { allowFailure: true });
  if (r.exitCode !== 0 && r.exitCode !== 4) {
    throw new MigrateError('COMMAND_FAILED', `lifting CRIU's network lock on ${label} failed (exit ${r.exitCode}): it runs cut off from the network`, {
      host: t.name, stderr: r.stderr,
      hint: `lift it by hand: nsenter -t ${pid} -n sh -c 'iptables -D INPUT -j CRIU; iptables -D OUTPUT -j CRIU; iptables -F CRIU; iptables -X CRIU' (and ip6tables the same)`,
    });
  }
}
