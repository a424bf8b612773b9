/**
 * What happens to a workload's TCP connections (`--tcp`), as CRIU options. The names are CRIU's
 * long options without the dashes: runc.conf takes them as lines, the criu CLI as `--name`.
 *
 * - refuse (default): preflight refuses a workload with connections (migration/dumpable.ts).
 * - close: the connections are dropped: CRIU does not dump their state, and the restored sockets
 *   are shut down, so the workload sees them end and the clients see a reset and reconnect.
 * - keep: the connections move with the workload (TCP repair); only useful where the peer still
 *   reaches the workload's address afterwards (both ends inside the container).
 *
 * Every policy adds `skip-in-flight`: a connection still in a listening socket's accept queue
 * cannot be moved, and CRIU would otherwise fail the whole dump for it; its client retries.
 */
export const TCP_POLICIES = ['refuse', 'close', 'keep'] as const;
export type TcpPolicy = (typeof TCP_POLICIES)[number];

export function criuTcpOptions(policy: TcpPolicy): string[] {
  const own = policy === 'close' ? ['tcp-close'] : policy === 'keep' ? ['tcp-established'] : [];
  return [...own, 'skip-in-flight'];
}

/** The same options for the criu command line. */
export const asCriuFlags = (options: readonly string[]): string[] => options.map((o) => `--${o}`);
