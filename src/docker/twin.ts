/**
 * The twin: the container migrate creates on the target for the restore. It is made from the
 * source container's own inspected Config, HostConfig and network endpoints, so every setting
 * carries over — read-only root, limits, devices, sysctls, DNS, extra hosts, init, namespaces
 * modes, runtime, logging, health check, user-defined networks with aliases, and whatever Docker
 * adds next — except the changes listed in TWIN_CHANGES, the one place that says what migrate
 * changes and why. What the target cannot provide is refused before the freeze (twinRefusals).
 */
import { TWIN_LABEL, type Inspect } from './container.js';

/** Everything migrate changes on purpose when it makes the twin (the README lists the same). */
export const TWIN_CHANGES = {
  name: 'the name: --name, else the same',
  label: `label ${TWIN_LABEL}=<source container ID> added: marks migrate's twin for recover and the next run`,
  volumeMap: 'named volumes renamed with --volume-map',
  containerIdFile: 'HostConfig.ContainerIDFile dropped: it names a file on the source host',
  macAddress: 'the MAC address Docker generated for each network endpoint: Docker generates a new one (a MAC set with --mac-address is kept)',
  alias: "a network alias that is the source container's short ID: Docker adds the twin's own",
  address: 'a static address (--ip/--ip6) the target network cannot take because its subnets differ: Docker assigns one (reported)',
} as const;

export type TwinChange = keyof typeof TWIN_CHANGES;

/** One of the target's networks as far as the twin needs it. */
export interface NetworkFacts {
  /** Subnets configured on the network (IPAM.Config), e.g. "172.30.0.0/24". */
  subnets: string[];
  /** Addresses in use there, without prefix length. */
  used: string[];
}

/** What the target can provide (gathered by twin-target.ts). */
export interface TargetFacts {
  runtimes: string[];
  /** Log drivers the daemon has (null: unknown, not checked). */
  logDrivers: string[] | null;
  /** Each network the container uses, by name: undefined when the target lacks it. */
  networks: Record<string, NetworkFacts | undefined>;
  /** The source's own networks, for their subnets. */
  sourceNetworks: Record<string, NetworkFacts | undefined>;
  /** Device paths (HostConfig.Devices' PathOnHost) missing on the target. */
  missingDevices: string[];
  /** Host ports ("tcp/8080") that running containers publish on the target. */
  publishedPorts: string[];
}

/** A network endpoint as `docker inspect` reports it (the parts migrate reads). */
export interface Endpoint {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  IPAddress?: string;
  GlobalIPv6Address?: string;
  [field: string]: unknown;
}

/** The networks a container is attached to (NetworkMode's first), by name. */
export function containerNetworks(c: Inspect): Array<[string, Endpoint]> {
  const all = Object.entries(c.NetworkSettings?.Networks ?? {});
  const mode = c.HostConfig.NetworkMode;
  return all.sort(([a], [b]) => (a === mode ? -1 : b === mode ? 1 : 0));
}

/** Network modes that are not a network of the daemon's. */
export const isOwnNetwork = (name: string) => !['host', 'none', 'default'].includes(name) && !name.startsWith('container:');

/** The static addresses (--ip, --ip6) given to an endpoint. */
const staticAddresses = (e: Endpoint): string[] => [e.IPAMConfig?.IPv4Address, e.IPAMConfig?.IPv6Address].filter((a): a is string => !!a);

/** A static address keeps when the target's network has every subnet the source's has (same addressing). */
function sameSubnets(source: NetworkFacts | undefined, target: NetworkFacts): boolean {
  return !!source && source.subnets.length > 0 && source.subnets.every((s) => target.subnets.includes(s));
}

/** Why the twin cannot be made as the source container is on this target; empty when it can. */
export function twinRefusals(c: Inspect, facts: TargetFacts): string[] {
  const h = c.HostConfig;
  const r: string[] = [];
  if (h.Runtime && !facts.runtimes.includes(h.Runtime)) r.push(`it runs with runtime ${h.Runtime}, which Docker there does not have (it has ${facts.runtimes.join(', ')})`);
  const log = h.LogConfig?.Type;
  if (log && facts.logDrivers && !facts.logDrivers.includes(log)) r.push(`it logs with the ${log} log driver, which Docker there does not have`);
  for (const d of facts.missingDevices) r.push(`it uses device ${d}, which the target does not have`);
  for (const [name, e] of containerNetworks(c)) {
    if (!isOwnNetwork(name)) continue;
    const there = facts.networks[name];
    if (!there) {
      r.push(`it is on network ${name}, which the target does not have (create it there with the same driver and subnet)`);
      continue;
    }
    if (!sameSubnets(facts.sourceNetworks[name], there)) continue; // the address will change (reported)
    for (const a of staticAddresses(e)) if (there.used.includes(a)) r.push(`its static address ${a} on network ${name} is already used on the target`);
  }
  for (const [port, bindings] of Object.entries(h.PortBindings ?? {})) {
    const proto = port.split('/')[1] ?? 'tcp';
    for (const b of bindings ?? []) {
      if (b.HostPort && facts.publishedPorts.includes(`${proto}/${b.HostPort}`)) r.push(`it publishes port ${b.HostPort}/${proto}, which another container publishes on the target`);
    }
  }
  return r;
}

/** The Engine API's POST /containers/create body, and the networks to join after it. */
export interface TwinSpec {
  create: Record<string, unknown> & { name: string; HostConfig: Record<string, unknown> };
  /** Further networks, joined (POST /networks/{name}/connect) before the twin starts. */
  connect: Array<{ network: string; endpoint: Endpoint }>;
  /** What was changed, as `<TWIN_CHANGES key>: detail` lines for the report. */
  changes: Array<{ change: TwinChange; detail: string }>;
}

/**
 * The twin's create request: the source's Config and HostConfig as inspected, its network
 * endpoints without what Docker assigns per endpoint, and the TWIN_CHANGES.
 */
export function twinSpec(c: Inspect, facts: Pick<TargetFacts, 'networks' | 'sourceNetworks'>, o: { name: string; volumeMap?: ReadonlyMap<string, string> }): TwinSpec {
  const changes: TwinSpec['changes'] = [];
  const volumeMap = o.volumeMap ?? new Map<string, string>();
  const config = structuredClone(c.Config) as Record<string, unknown> & Inspect['Config'];
  const host = structuredClone(c.HostConfig) as Record<string, unknown> & Inspect['HostConfig'];
  if (o.name !== c.Name.replace(/^\//, '')) changes.push({ change: 'name', detail: `${c.Name.replace(/^\//, '')} → ${o.name}` });
  config.Labels = { ...(config.Labels ?? {}), [TWIN_LABEL]: c.Id };
  changes.push({ change: 'label', detail: `${TWIN_LABEL}=${c.Id}` });
  if (host.ContainerIDFile) {
    changes.push({ change: 'containerIdFile', detail: String(host.ContainerIDFile) });
    host.ContainerIDFile = '';
  }
  const mapped = (v: string) => {
    const to = volumeMap.get(v);
    if (to !== undefined) changes.push({ change: 'volumeMap', detail: `${v} → ${to}` });
    return to ?? v;
  };
  if (host.Binds) host.Binds = host.Binds.map((b) => {
    const at = b.indexOf(':');
    return at > 0 && !b.startsWith('/') ? mapped(b.slice(0, at)) + b.slice(at) : b;
  });
  if (host.Mounts) host.Mounts = host.Mounts.map((m) => (m.Type === 'volume' && m.Source ? { ...m, Source: mapped(m.Source) } : m));

  const shortId = c.Id.slice(0, 12);
  const endpoints = containerNetworks(c).filter(([name]) => isOwnNetwork(name)).map(([name, e]): [string, Endpoint] => {
    const aliases = (e.Aliases ?? []).filter((a) => a !== shortId && a !== c.Id);
    if (aliases.length < (e.Aliases ?? []).length) changes.push({ change: 'alias', detail: `${name}: ${shortId}` });
    const endpoint: Endpoint = { Aliases: aliases.length ? aliases : null, Links: e.Links ?? null, DriverOpts: e.DriverOpts ?? null };
    const there = facts.networks[name];
    const keep = there !== undefined && sameSubnets(facts.sourceNetworks[name], there);
    const fixed = staticAddresses(e);
    if (e.IPAMConfig && (keep || fixed.length === 0)) endpoint.IPAMConfig = e.IPAMConfig;
    else if (fixed.length > 0) {
      changes.push({ change: 'address', detail: `${name}: ${fixed.join(', ')} is not kept (the target's network has other subnets)` });
      const { IPv4Address: _4, IPv6Address: _6, ...rest } = e.IPAMConfig ?? {};
      if (Object.keys(rest).length > 0) endpoint.IPAMConfig = rest;
    }
    if (e.MacAddress && !config.MacAddress) changes.push({ change: 'macAddress', detail: `${name}: ${e.MacAddress}` });
    return [name, endpoint];
  });
  const [first, ...rest] = endpoints;
  return {
    create: {
      ...config,
      name: o.name,
      HostConfig: host,
      NetworkingConfig: { EndpointsConfig: first ? { [first[0]]: first[1] } : {} },
    },
    connect: rest.map(([network, endpoint]) => ({ network, endpoint })),
    changes,
  };
}

/** Where Docker mounts the init binary of a container run with --init. */
export const INIT_MOUNTPOINT = '/sbin/docker-init';

/**
 * The host paths bind-mounted into the container, each with its mountpoint inside: its binds and
 * bind mounts, and with --init the init binary (`docker-init` as dockerd finds it in PATH). CRIU
 * is told the real file of each that is a symlink on the target (restore-mounts.ts).
 */
export function boundHostPaths(c: Inspect): Array<{ source: string; destination: string }> {
  const h = c.HostConfig;
  const binds = (h.Binds ?? []).filter((b) => b.startsWith('/')).map((b) => {
    const [source = '', destination = ''] = b.split(':');
    return { source, destination };
  });
  const mounts = (h.Mounts ?? []).filter((m) => m.Type === 'bind' && m.Source).map((m) => ({ source: m.Source!, destination: m.Target }));
  return [...binds, ...mounts, ...(h.Init ? [{ source: 'docker-init', destination: INIT_MOUNTPOINT }] : [])];
}
