/**
 * Preflight for what CRIU will meet inside the workload, before anything is frozen: processes it
 * cannot dump on this host, and TCP connections the chosen policy (`--tcp`) does not allow.
 */
import type { Transport } from '../../transports/transport.js';
import type { TcpPolicy } from '../criu/tcp-policy.js';
import { MigrateError } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';
import { CAP_SYS_RESOURCE, hasCapability, sameCredentials } from '../process/credentials.js';
import { probeTree, type TreeProbe } from '../process/probe.js';
import { CONNECTED_STATES, type TcpSocket } from '../process/tcp-table.js';

/** How many connections a refusal names. */
const LISTED = 5;

export const describeConnection = (s: TcpSocket): string => `${s.local} ↔ ${s.remote} (${s.state})`;

/** Processes CRIU cannot read the resource limits of: other users', where root lacks CAP_SYS_RESOURCE. */
export function foreignProcesses(p: TreeProbe): TreeProbe['processes'] {
  if (hasCapability(p.caller.capEff, CAP_SYS_RESOURCE)) return [];
  return p.processes.filter((x) => !sameCredentials(p.caller, x));
}

/** The connections CRIU would need --tcp-established or --tcp-close for. */
export const connections = (p: TreeProbe): TcpSocket[] => p.sockets.filter((s) => CONNECTED_STATES.has(s.state));

/**
 * Refuses (PREFLIGHT) a container with processes outside its main process's tree: those started
 * with `docker exec` hang below the runtime, not below the container's init, so CRIU (which dumps
 * init's tree) would leave them behind and they would die with the source container.
 * `all`: every process in the container's cgroup, as "PID COMMAND" rows (docker top).
 */
export async function requireOneTree(host: Transport, label: string, tree: readonly number[], all: ReadonlyArray<{ pid: number; command: string }>): Promise<void> {
  const inTree = new Set(tree);
  const candidates = all.filter((p) => !inTree.has(p.pid));
  if (candidates.length === 0) return;
  // The two listings were not taken at once: keep only processes that still run and whose
  // ancestors do not include the main process (one forked or ended in between is no outsider).
  const r = await host.exec(hostScript('list-outside-tree', String(tree[0]), ...candidates.map((p) => String(p.pid))));
  const still = new Set(r.stdout.split('\n').filter(Boolean).map(Number));
  const outside = candidates.filter((p) => still.has(p.pid));
  if (outside.length === 0) return;
  const listed = outside.slice(0, LISTED).map((p) => `PID ${p.pid} ${p.command}`).join(', ');
  throw new MigrateError('PREFLIGHT', `${label} runs processes outside its main process's tree (${listed}), started with docker exec: CRIU checkpoints only the main process and its children, so they would be lost`, {
    host: host.name,
    hint: 'wait for them to end or stop them, then migrate; work that must move with the container belongs under its main process',
  });
}

/**
 * Refuses (PREFLIGHT) a workload CRIU cannot dump here or whose connections `tcp` does not allow;
 * returns its connections (for the report).
 */
export async function requireDumpable(host: Transport, pids: readonly number[], label: string, tcp: TcpPolicy): Promise<TcpSocket[]> {
  const probe = await probeTree(host, pids);
  const foreign = foreignProcesses(probe);
  if (foreign.length > 0) {
    const who = foreign.slice(0, LISTED).map((x) => `PID ${x.pid} uid ${x.uids[0]} gid ${x.gids[0]}`).join(', ');
    throw new MigrateError('PREFLIGHT', `${label} has processes running as another user (${who}), and root on this host lacks CAP_SYS_RESOURCE: CRIU could not read their resource limits ("Can't get rlimit … Operation not permitted") and the dump would fail`, {
      host: host.name,
      hint: 'run migrate\'s commands there as a root that has CAP_SYS_RESOURCE (a normal host\'s root has it; some sandboxes and container hosts drop it), or run the workload as root',
    });
  }
  const open = connections(probe);
  if (tcp === 'refuse' && open.length > 0) {
    const listed = open.slice(0, LISTED).map(describeConnection).join(', ') + (open.length > LISTED ? `, and ${open.length - LISTED} more` : '');
    throw new MigrateError('PREFLIGHT', `${label} has ${open.length} open TCP connection${open.length === 1 ? '' : 's'}: ${listed}`, {
      host: host.name,
      hint: 'choose what happens to them: --tcp close drops them (its clients see a reset and reconnect, to the target), ' +
        '--tcp keep moves them with it (only where the peers still reach its address afterwards, e.g. both ends inside the container)',
    });
  }
  return open;
}
