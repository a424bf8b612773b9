/**
 * What one run of the pipeline works with: both hosts, the workload, the plan, the report it
 * fills, and the long-running helpers beside CRIU (injectable, so the orchestration is tested
 * with fakes).
 */
import type { Transport } from '../../../transports/transport.js';
import { startLazyPages, startPageServer, startRemoteLazyPages, type CriuService, type ChannelDirs, type PageServer, type ServiceDirs } from '../../criu/services.js';
import type { EventSink } from '../../events.js';
import type { Endpoint } from '../../transfer/page-relay.js';
import type { SendOptions } from '../../transfer/send-images.js';
import type { StopPolicy } from '../precopy-policy.js';
import type { MigrationReport, PageTransport, RestoreMode } from '../report.js';
import type { Dirs, Workload } from '../workload.js';
import type { PageChannelMode } from './page-channel.js';
import type { PrefetchMode } from '../../prefetch/prefetcher.js';
import { startPageForwarder, type PageForwarderMode } from '../../transfer/page-forwarder.js';
import type { Plan } from './plan.js';

/** The helpers that run beside a dump or a restore: CRIU's (criu/services.ts) and the page forwarder. */
export interface CriuServices {
  /** `address`: where it listens (loopback unless a direct channel). */
  pageServer(t: Transport, d: ChannelDirs, address?: string): Promise<PageServer>;
  lazyPages(t: Transport, d: ServiceDirs): Promise<CriuService>;
  remoteLazyPages(t: Transport, d: ChannelDirs, pageServer: Endpoint): Promise<CriuService>;
  pageForwarder: typeof startPageForwarder;
}

export const REAL_SERVICES: CriuServices = { pageServer: startPageServer, lazyPages: startLazyPages, remoteLazyPages: startRemoteLazyPages, pageForwarder: startPageForwarder };

/** Test hooks for fault injection. */
export interface Faults {
  tamper?: SendOptions['tamper'];
  /** Runs right after the freeze started (before pages move). */
  afterFreeze?: () => Promise<void>;
  beforeRestore?: () => Promise<void>;
  /** Runs once the workload resumed on the target, while its memory fills in. */
  duringFill?: () => Promise<void>;
}

export interface MoveContext {
  source: Transport;
  target: Transport;
  workload: Workload;
  report: MigrationReport;
  plan: Plan;
  /** Pre-copy's stop rule. */
  policy: StopPolicy;
  /** Where checkpoint directories live on both hosts. */
  workRoot: string;
  /** Names this workload's checkpoint directories: `<workRoot>/<runPrefix>-<time>`. */
  runPrefix: string;
  /** Its resident memory before the move (preflight): what a post-copy window will pull, roughly. */
  residentBytes?: number;
  pages: PageTransport;
  /** Page channels between the hosts directly or through SSH (page-channel.ts); default ssh. */
  pageChannel?: PageChannelMode;
  /** Post-copy: a prefetcher on the target pulls the memory ahead of CRIU's daemon (prefetch/) where `auto`; none without. */
  prefetch?: PrefetchMode;
  /** Direct post-copy: a page forwarder on the source between its page server and the link where `auto`; none with `off`. */
  pageForwarder?: PageForwarderMode;
  restore: RestoreMode;
  /** Every step inside the freeze must be done within this (deadline.ts); past it, a rollback. */
  freezeTimeoutMs: number;
  zstdLevel?: number;
  keepSource?: boolean;
  signal?: AbortSignal;
  emit: EventSink;
  services: CriuServices;
  faults?: Faults;
}

/** Emits a step event. */
export const step = (c: Pick<MoveContext, 'emit'>, name: string, host: Transport, detail?: string): void =>
  c.emit({ kind: 'step', step: name, host: host.name, detail });

/** The run's checkpoint directory on both hosts (the same path on each). */
export type RunDirs = Dirs;
