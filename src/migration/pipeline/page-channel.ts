/**
 * Which way the run's page channels go, decided before the freeze:
 *
 * - `direct`: CRIU's own TCP connection between the hosts — the source's dump to the target's
 *   page server (eager freeze), or the target's lazy-pages daemon to the source's lazy page
 *   server (lazy freeze). It is TLS with the run's credential (criu/page-tls.ts): only the two
 *   CRIUs of this run can complete it, and pages are encrypted once.
 * - `ssh`: the same TLS stream, carried through the SSH connections and a relay on the
 *   controller (transfer/page-relay.ts): no port between the hosts needs to be open, but every
 *   byte is encrypted twice and every one of the lazy-pages daemon's requests crosses four hops.
 *
 * `ssh` is the default. `direct` probes the route each channel of the plan needs
 * (transfer/direct-route.ts) and stops before the freeze when one fails; `auto` then falls back
 * to SSH, saying why in the report.
 *
 * Why not direct by default: through SSH, the relay cuts a channel whose far side does not answer
 * the TLS hello within 10 s (page-relay.ts ANSWER_WITHIN_MS): a local user who catches a page
 * server's port reads nothing and the run rolls back at once. Direct, CRIU has no handshake
 * timeout: the same user reads nothing either, but the freeze lasts until --freeze-timeout and a
 * CRIU stuck in that handshake holds the workload until the squatter lets go.
 */
import type { Transport } from '../../../transports/transport.js';
import { MigrateError } from '../../../transports/errors.js';
import { startProbeServer } from '../../criu/services.js';
import { probeRoute, type ProbeServer, type Route } from '../../transfer/direct-route.js';
import type { Dirs } from '../workload.js';
import type { MoveContext } from './context.js';

export type PageChannelMode = 'auto' | 'direct' | 'ssh';
export const PAGE_CHANNEL_MODES: readonly PageChannelMode[] = ['auto', 'direct', 'ssh'];

/** The addresses the page channels dial directly; a channel without one goes through SSH. */
export interface PageRoutes {
  /** The target's address the source's dump sends its pages to (eager freeze, page-server mode). */
  toTarget?: string;
  /** The source's address the target's lazy-pages daemon pulls the memory from (lazy freeze). */
  toSource?: string;
}

type Needs = { toTarget: boolean; toSource: boolean };

/** The channels the plan may open: auto's pre-copy may still turn lazy (hybrid). */
function channelsOf(c: Pick<MoveContext, 'plan' | 'pages'>): Needs {
  return {
    toTarget: c.plan.freeze === 'eager' && c.pages === 'page-server',
    toSource: c.plan.freeze === 'lazy' || c.plan.lazyWhenNotConverged,
  };
}

const addressOf = (r: Route | undefined) => (r && 'address' in r ? r.address : undefined);
const whyNot = (r: Route | undefined) => (r && 'why' in r ? r.why : undefined);

/** Probes what the plan needs (in the run's work directory on each host) and records the choice in the report. */
export async function choosePageRoutes(c: Pick<MoveContext, 'source' | 'target' | 'plan' | 'pages' | 'report' | 'pageChannel'>, dirs: Dirs,
  probe: ProbeServer = startProbeServer): Promise<PageRoutes> {
  const mode = c.pageChannel ?? 'ssh';
  const needs = channelsOf(c);
  const ssh = (why: string): PageRoutes => {
    c.report.page_channel = 'ssh';
    c.report.page_channel_reason = why;
    return {};
  };
  if (!needs.toTarget && !needs.toSource) return ssh('no page channel: the images travel as a stream over SSH');
  if (mode === 'ssh') return ssh('--page-channel ssh (the default; direct or auto try a direct channel)');
  const route = (listener: Transport, connector: Transport, needed: boolean) => (needed ? probeRoute(listener, connector, dirs.work, probe) : undefined);
  const [toTarget, toSource] = await Promise.all([route(c.target, c.source, needs.toTarget), route(c.source, c.target, needs.toSource)]);
  const why = [whyNot(toTarget), whyNot(toSource)].filter((w): w is string => w !== undefined).join('; ');
  if (why) {
    if (mode === 'direct') {
      throw new MigrateError('PREFLIGHT', `no direct page channel between ${c.source.name} and ${c.target.name}: ${why}`, {
        host: c.source.name,
        hint: 'let the hosts reach each other on TCP ports 20000-49999 (CRIU\'s page channels, TLS), or use --page-channel ssh (or auto) to carry them over SSH',
      });
    }
    return ssh(why);
  }
  c.report.page_channel = 'direct';
  return { toTarget: addressOf(toTarget), toSource: addressOf(toSource) };
}
