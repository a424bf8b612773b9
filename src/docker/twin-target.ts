/**
 * What a target can provide for a container's twin (twin.ts), asked of both hosts' Docker
 * daemons through the Engine API: runtimes and log drivers, the container's networks with their
 * subnets and used addresses, its devices, and the host ports already published there.
 */
import type Docker from 'dockerode';
import type { Transport } from '../../transports/transport.js';
import { hostScript } from '../host-scripts/index.js';
import type { Inspect } from './container.js';
import { engineCall, engineFind } from './engine.js';
import { MigrateError } from '../../transports/errors.js';
import { containerNetworks, isOwnNetwork, twinRefusals, twinSpec, type NetworkFacts, type TargetFacts, type TwinSpec } from './twin.js';

function networkFacts(n: Docker.NetworkInspectInfo): NetworkFacts {
  return {
    subnets: (n.IPAM?.Config ?? []).map((x) => x.Subnet).filter((s): s is string => !!s),
    used: Object.values(n.Containers ?? {}).flatMap((x) => [x.IPv4Address, x.IPv6Address]).filter(Boolean).map((a) => a.split('/')[0]!),
  };
}

async function networksOf(t: Transport, names: string[]): Promise<Record<string, NetworkFacts | undefined>> {
  const found = await Promise.all(names.map((name) =>
    engineFind(t, `inspect network ${name}`, (d) => d.getNetwork(name).inspect() as Promise<Docker.NetworkInspectInfo>)));
  return Object.fromEntries(names.map((name, i) => [name, found[i] && networkFacts(found[i]!)]));
}

export async function targetFacts(source: Transport, target: Transport, c: Inspect): Promise<TargetFacts> {
  const names = containerNetworks(c).map(([n]) => n).filter(isOwnNetwork);
  const devices = (c.HostConfig.Devices ?? []).map((d) => d.PathOnHost);
  const [info, networks, sourceNetworks, missing, running] = await Promise.all([
    engineCall(target, 'describe itself (GET /info)', (d) => d.info() as Promise<{ Runtimes?: Record<string, unknown>; Plugins?: { Log?: string[] } }>),
    networksOf(target, names),
    networksOf(source, names),
    devices.length ? target.exec(hostScript('list-missing-paths', ...devices)).then((r) => r.stdout.split('\n').filter(Boolean)) : [],
    engineCall(target, 'list its containers', (d) => d.listContainers()),
  ]);
  return {
    runtimes: Object.keys(info.Runtimes ?? {}),
    logDrivers: info.Plugins?.Log ?? null,
    networks,
    sourceNetworks,
    missingDevices: missing,
    publishedPorts: running.flatMap((x) => (x.Ports ?? []).filter((p) => p.PublicPort).map((p) => `${p.Type}/${p.PublicPort}`)),
  };
}

/**
 * The twin's create request for this target, or PREFLIGHT naming everything the target cannot
 * provide (a runtime, a network, a device, a log driver, a static address or host port in use).
 */
export async function planTwin(source: Transport, target: Transport, c: Inspect, o: { name: string; volumeMap?: ReadonlyMap<string, string> }): Promise<TwinSpec> {
  const facts = await targetFacts(source, target, c);
  const refused = twinRefusals(c, facts);
  if (refused.length > 0) {
    throw new MigrateError('PREFLIGHT', `container ${c.Name.replace(/^\//, '')} cannot be made the same on the target: ${refused.join('; ')}`, {
      host: target.name,
      hint: 'provide it on the target, or migrate to a host that has it',
    });
  }
  return twinSpec(c, facts, o);
}
