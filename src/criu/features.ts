/**
 * What the kernel and CRIU on a host can do, probed by running `criu check` rather than
 * guessed from versions.
 */
import type { Transport } from '../../transports/transport.js';
import { criuEnv } from './env.js';

/** Features migrate cares about, by CRIU's own names (`criu check --feature NAME`). */
export const FEATURES = [
  'mem_dirty_track', // soft-dirty page tracking: pre-copy (pre-dump + --track-mem)
  'uffd', // userfaultfd: lazy pages
  'uffd-noncoop', // userfaultfd for non-cooperative processes: post-copy of real workloads
  'pidfd_store', // reliable pid reuse detection across pre-dumps
  'timens', // time namespaces
  'network_lock_nftables', // locking the network while frozen without iptables
  'clone3_set_tid', // restoring PIDs without a ns_last_pid race
  'pagemap_scan', // fast dirty-page scanning (PAGEMAP_SCAN ioctl)
] as const;

const PROBES_AT_ONCE = 4;

export type FeatureName = (typeof FEATURES)[number];
export type FeatureMap = Record<FeatureName, boolean>;

export interface CriuCheck {
  /** `criu check` (the basic check) passed. */
  ok: boolean;
  /** Its error lines when it did not. */
  problems: string[];
  features: FeatureMap;
  /**
   * CRIU keeps what it probed of the kernel between runs (its kdat cache: RUNDIR/criu.kdat, kept
   * only on a tmpfs; RUNDIR is /run unless CRIU was built otherwise). Without it every CRIU run
   * probes again, ~40 ms on the lab's hosts.
   */
  kdatCache: boolean;
}

/** The plain `criu check`: does CRIU work on this kernel at all? */
export async function basicCheck(t: Transport): Promise<{ ok: boolean; output: string; problems: string[] }> {
  const r = await t.exec(['criu', 'check'], { allowFailure: true, env: criuEnv() });
  const output = r.stdout + r.stderr;
  const problems = output.split('\n').filter((l) => /^Error|error/.test(l)).map((l) => l.trim());
  return { ok: r.exitCode === 0, output, problems };
}

export async function hasFeature(t: Transport, f: FeatureName): Promise<boolean> {
  return (await t.exec(['criu', 'check', '--feature', f], { allowFailure: true, env: criuEnv() })).exitCode === 0;
}

export async function checkCriu(t: Transport): Promise<CriuCheck> {
  const basic = await basicCheck(t);
  // Each probe re-reads kernel data (~0.5 s): run a few at a time, within sshd's MaxSessions.
  const features = {} as FeatureMap;
  const queue = [...FEATURES];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      features[f] = await hasFeature(t, f);
    }
  };
  await Promise.all(Array.from({ length: PROBES_AT_ONCE }, worker));
  return { ok: basic.ok, problems: basic.problems, features, kdatCache: await kdatCached(t) };
}

/** After a first CRIU run (which writes the cache where it can), does the next one load it? */
export async function kdatCached(t: Transport): Promise<boolean> {
  const r = await t.exec(['criu', 'check', '--feature', 'uffd', '-v3'], { allowFailure: true, env: criuEnv() });
  return /Loaded kdat cache from /.test(r.stdout + r.stderr);
}
