/**
 * A direct route for a page channel: the address of one host (the listener) that the other (the
 * connector) dials without SSH, and a probe that proves it works before anything is frozen.
 *
 * The address is the one the controller reaches the listener by (its SSH host, resolved), unless
 * that is a loopback address or the listener is the controller's own machine: then it is the
 * address the listener sends from toward the connector (`ip route get`). The probe starts a CRIU
 * page server on that address and has the connector open a connection to it: what is proven is
 * exactly what the migration will do (CRIU binds there, the connector's packets get through).
 */
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import type { Transport } from '../../transports/transport.js';
import { hostScript } from '../host-scripts/index.js';
import type { ServiceDirs, PageServer } from '../criu/services.js';

/** How long the connector may take to connect in the probe. */
const CONNECT_S = 3;
/** How long the probe's page server gets to end after the connector hung up. */
const END_MS = 3000;

export type Route = { address: string } | { why: string };

const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';

/** The IPv4 address the controller reaches `t` by, if it reaches it over the network. */
async function networkAddress(t: Transport): Promise<string | undefined> {
  if (t.isLocal || !t.networkHost) return undefined;
  if (isIPv4(t.networkHost)) return t.networkHost;
  return lookup(t.networkHost, { family: 4 }).then((r) => r.address, () => undefined);
}

/** The address `connector` should dial to reach `listener`, or why there is none. */
export async function listenAddress(listener: Transport, connector: Transport): Promise<Route> {
  const own = await networkAddress(listener);
  if (own && !isLoopback(own)) return { address: own };
  const peer = await networkAddress(connector);
  if (!peer || isLoopback(peer)) {
    return { why: `no network address of ${listener.name} is known to ${connector.name} (both are reached through the controller's loopback or its own machine)` };
  }
  const r = await listener.exec(hostScript('route-source', peer), { allowFailure: true, timeoutMs: 10_000 });
  const address = r.stdout.trim();
  if (r.exitCode !== 0 || !isIPv4(address)) return { why: `${listener.name} has no route to ${peer} (ip route get: ${r.stderr.trim() || `exit ${r.exitCode}`})` };
  return { address };
}

/** Starts a page server that takes one connection and asks nothing (criu/services.ts startProbeServer). */
export type ProbeServer = (t: Transport, d: ServiceDirs, address: string) => Promise<PageServer>;

/**
 * Whether `connector` reaches a page server on `address` of `listener`: resolves with the route
 * or why not (a firewall, another network). `dir`: where the probe's server may write its log.
 */
export async function probeRoute(listener: Transport, connector: Transport, dir: string, start: ProbeServer): Promise<Route> {
  const route = await listenAddress(listener, connector);
  if (!('address' in route)) return route;
  const { address } = route;
  let server: PageServer;
  try {
    server = await start(listener, { imagesDir: dir, workDir: dir }, address);
  } catch (e) {
    return { why: `CRIU cannot listen on ${address} on ${listener.name}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  const ended = server.done.then(() => true, () => true);
  const r = await connector.exec(hostScript('can-connect', address, String(server.port), String(CONNECT_S)), { allowFailure: true, timeoutMs: (CONNECT_S + 5) * 1000 })
    .catch((e: unknown) => ({ exitCode: -1, stderr: String(e) }));
  // Connected, it ends by itself (the connection closed at once); otherwise it would wait for good.
  if (r.exitCode !== 0 || !(await Promise.race([ended, new Promise<boolean>((res) => setTimeout(() => res(false), END_MS).unref())]))) server.kill();
  if (r.exitCode === 0) return route;
  const how = r.exitCode === 124 ? `no answer within ${CONNECT_S} s (a firewall?)` : 'refused or unreachable';
  return { why: `${connector.name} cannot connect to ${address}:${server.port} on ${listener.name}: ${how}` };
}
