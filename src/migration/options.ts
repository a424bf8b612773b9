/** What every migration takes, whatever it moves. */
import type { Transport } from '../../transports/transport.js';
import type { TcpPolicy } from '../criu/tcp-policy.js';
import type { EventSink } from '../events.js';
import type { Faults } from './pipeline/context.js';
import type { PageChannelMode } from './pipeline/page-channel.js';
import type { PrefetchMode } from '../prefetch/prefetcher.js';
import type { PageForwarderMode } from '../transfer/page-forwarder.js';
import type { StopPolicy } from './precopy-policy.js';
import type { PageTransport, RestoreMode } from './report.js';
import type { Strategy } from './strategy.js';

export interface MigrationOptions {
  source: Transport;
  target: Transport;
  /**
   * auto (default): chosen from the hosts and the workload (strategy.ts); cold: stop and copy;
   * postcopy: memory follows after the restore; precopy (kernels with soft-dirty): memory moves
   * in rounds while it runs, the freeze carries the rest; hybrid: pre-copy rounds, then a
   * post-copy freeze without any memory.
   */
  strategy?: Strategy | 'auto';
  /** Pre-copy's stop policy (defaults: precopy-policy.ts DEFAULT_POLICY). */
  precopy?: Partial<StopPolicy>;
  /** auto: the resident size from which memory counts as big (default strategy.ts AUTO_MEMORY_MIN, 256 MiB). */
  autoMemoryMin?: number;
  /** Every step inside the freeze must be done within this many ms, or the run rolls back (default 120 s). */
  freezeTimeoutMs?: number;
  /** Run every preflight check, freeze nothing. */
  dryRun?: boolean;
  zstdLevel?: number;
  /** How memory pages travel (default: straight to a page server on the target). */
  pages?: PageTransport;
  /**
   * Which way page channels go (pipeline/page-channel.ts): ssh (default) through SSH and the
   * controller; auto: straight between the hosts where a probe before the freeze gets through,
   * else through SSH; direct: straight, or fail before the freeze.
   */
  pageChannel?: PageChannelMode;
  /**
   * Post-copy: off (default): CRIU's lazy-pages daemon pulls the memory alone; auto: a
   * prefetcher on the target pulls it ahead of the daemon, where the target has Node 18 or
   * later. A shorter window, but its pulling takes CPU the restored workload wants: on the lab's
   * 2 vCPUs a Redis at 1 GiB answered its clients 0.8 s later (README, "The post-copy prefetcher").
   */
  prefetch?: PrefetchMode;
  /**
   * Post-copy over a direct page channel: auto (default): a page forwarder on the source, where
   * it runs node, carries the page server's replies from its loopback to the link (CRIU's own
   * writes to the link were the window's slow part in the lab: README, "The page forwarder");
   * off: the page server listens on the link itself.
   */
  pageForwarder?: PageForwarderMode;
  /** Default: lazy where the target has userfaultfd (the workload resumes before its memory is back in place). */
  restore?: RestoreMode;
  /** Where image directories live on both hosts (default /var/lib/migrate, or MIGRATE_WORK_DIR). */
  workRoot?: string;
  /** The workload's TCP connections: refused in preflight (default), dropped, or moved (criu/tcp-policy.ts). */
  tcp?: TcpPolicy;
  onEvent?: EventSink;
  /** Aborts the migration (Ctrl-C): before the freeze nothing happens, after it a rollback. */
  signal?: AbortSignal;
  faults?: Faults;
}

/** Where checkpoint directories live on both hosts (0700, removed after each run). */
export const defaultWorkRoot = (): string => process.env.MIGRATE_WORK_DIR ?? '/var/lib/migrate';
