/**
 * What two hosts' capabilities mean for migration between them: which strategies work and, for
 * each that does not, why (named after the missing piece, so the user knows what to change).
 */
import type { HostInfo } from './host-info.js';
import { PREFETCHER_NODE_MAJOR, nodeVersionProblem } from '../prefetch/prefetcher.js';

export type Strategy = 'cold' | 'precopy' | 'postcopy' | 'hybrid';

export interface Assessment {
  strategies: Record<Strategy, { available: boolean; reasons: string[] }>;
  docker: { available: boolean; reasons: string[] };
  /** Lazy restore (the workload resumes before its memory is back; cold's default where it works). */
  lazyRestore: { available: boolean; reasons: string[] };
  /**
   * The prefetcher (`--prefetch auto`, off by default: post-copy and hybrid pull the memory ahead
   * of CRIU's lazy-pages daemon): it needs post-copy and a Node on the target. Without it those
   * moves still work, the daemon pulling alone.
   */
  prefetch: { available: boolean; reasons: string[] };
  /**
   * The page forwarder (`--page-forwarder auto`, the default, on a direct page channel): it needs
   * post-copy and a node on the source. Without it the page server sends on the link itself.
   */
  pageForwarder: { available: boolean; reasons: string[] };
}

/** Why the target cannot run the prefetcher (none: it can). */
function prefetchReasons(target: HostInfo): string[] {
  const tooOld = target.node.version === null ? null : nodeVersionProblem(target.node.version);
  const why = target.node.version === null ? `no node on target ${target.host} (${target.node.problem ?? 'unknown'})` : tooOld && `${tooOld} on target ${target.host}`;
  return why ? [`${why}: --prefetch auto moves post-copy without it there; install Node ${PREFETCHER_NODE_MAJOR} or later to use it`] : [];
}

/** Why the source cannot run the page forwarder (none: it can, as far as a node there tells). */
function forwarderReasons(source: HostInfo): string[] {
  return source.node.version === null
    ? [`no node on source ${source.host} (${source.node.problem ?? 'unknown'}): post-copy over a direct page channel moves without the page forwarder, its window longer; install node there to use it`]
    : [];
}

export function assess(source: HostInfo, target: HostInfo): Assessment {
  const ends: Array<[string, HostInfo]> = [['source', source], ['target', target]];
  const criu: string[] = [];
  for (const [role, h] of ends) {
    if (!h.criu.usable) criu.push(`CRIU unusable on ${role} ${h.host}: ${h.criu.problems.join('; ') || 'criu check failed'}`);
  }
  const precopy = [...criu];
  if (!source.criu.features.mem_dirty_track) {
    precopy.push(`pre-copy unavailable on source ${source.host}: kernel ${source.kernel} lacks soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY)`);
  }
  const uffd = target.criu.features['uffd-noncoop'] ? [] : [`kernel ${target.kernel} of target ${target.host} lacks non-cooperative userfaultfd (uffd-noncoop)`];
  const postcopy = [...criu, ...uffd.map((r) => `post-copy unavailable: ${r}`)];
  const docker: string[] = [];
  for (const [role, h] of ends) {
    if (!h.docker.version) docker.push(`no Docker on ${role} ${h.host}: ${h.docker.problem ?? 'unknown'}`);
    else if (!h.docker.experimental) docker.push(`Docker on ${role} ${h.host} runs without experimental features (docker checkpoint needs dockerd --experimental)`);
  }
  const entry = (reasons: string[]) => ({ available: reasons.length === 0, reasons });
  return {
    strategies: {
      cold: entry(criu),
      precopy: entry(precopy),
      postcopy: entry(postcopy),
      hybrid: entry([...new Set([...precopy, ...postcopy])]),
    },
    docker: entry(docker),
    lazyRestore: entry([...criu, ...uffd.map((r) => `lazy restore unavailable (migrate restores eagerly): ${r}`)]),
    prefetch: entry([...postcopy, ...prefetchReasons(target)]),
    pageForwarder: entry([...postcopy, ...forwarderReasons(source)]),
  };
}
