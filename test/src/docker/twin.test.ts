import test from 'ava';
import { TWIN_CHANGES, twinRefusals, twinSpec, type Endpoint, type TargetFacts } from '../../../src/docker/twin.js';
import { TWIN_LABEL, type Inspect } from '../../../src/docker/container.js';

const ID = 'c0ffee'.repeat(10) + 'abcd';

/** An inspected container with many settings, as Docker 26 reports them (trimmed). */
function inspected(networks: Record<string, Endpoint> = { app: { Aliases: ['web-alias', ID.slice(0, 12)], IPAMConfig: { IPv4Address: '172.30.0.10' }, MacAddress: '02:42:ac:1e:00:0a', IPAddress: '172.30.0.10' } }): Inspect {
  return {
    Id: ID, Name: '/web', Image: 'sha256:x', State: { Running: true, Paused: false, Pid: 7 },
    Config: {
      Image: 'redis:7', Entrypoint: ['docker-entrypoint.sh'], Cmd: ['redis-server'], Env: ['A=1'], Labels: { tier: 'cache' }, WorkingDir: '/data', User: 'redis',
      Tty: false, OpenStdin: false, Hostname: 'web', StopSignal: 'SIGINT', Volumes: { '/data': {} },
      Healthcheck: { Test: ['CMD', 'redis-cli', 'ping'], Interval: 1e9 },
    } as Inspect['Config'],
    HostConfig: {
      Binds: ['redis-data:/data', '/etc/ssl:/etc/ssl:ro'], NetworkMode: 'app', PortBindings: { '6379/tcp': [{ HostIp: '', HostPort: '16379' }] },
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 }, SecurityOpt: ['no-new-privileges'], CapAdd: null, CapDrop: ['ALL'], Privileged: false,
      Memory: 256 * 2 ** 20, NanoCpus: 5e8, Tmpfs: { '/run': 'size=1m' }, ShmSize: 64 * 2 ** 20, AutoRemove: false,
      Mounts: [{ Type: 'volume', Source: 'cache', Target: '/cache' }],
      Runtime: 'runc', LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } }, Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
      ContainerIDFile: '/tmp/web.cid', ReadonlyRootfs: true, PidsLimit: 64, Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' }, Dns: ['10.0.0.53'], DnsSearch: ['lab'],
      ExtraHosts: ['db:10.0.0.5'], Init: true, OomScoreAdj: 100, GroupAdd: ['audio'], Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }], CpuShares: 512,
    } as Inspect['HostConfig'],
    NetworkSettings: { Networks: networks },
    Mounts: [],
  };
}

const facts = (over: Partial<TargetFacts> = {}): TargetFacts => ({
  runtimes: ['runc'], logDrivers: ['json-file', 'local'], missingDevices: [], publishedPorts: [],
  networks: { app: { subnets: ['172.30.0.0/24'], used: [] } }, sourceNetworks: { app: { subnets: ['172.30.0.0/24'], used: ['172.30.0.10'] } },
  ...over,
});

test('the twin carries every setting of the source; what changes is only what TWIN_CHANGES names', (t) => {
  const c = inspected();
  const spec = twinSpec(c, facts(), { name: 'web' });
  const { name, HostConfig, NetworkingConfig, Labels, ...config } = spec.create as Record<string, any>;
  t.is(name, 'web');
  // Config: identical but for the twin label.
  const { Labels: srcLabels, ...srcConfig } = c.Config as Record<string, unknown>;
  t.deepEqual(config, srcConfig);
  t.deepEqual(Labels, { ...(srcLabels as object), [TWIN_LABEL]: ID });
  // HostConfig: identical but for the container ID file on the source host.
  t.deepEqual({ ...HostConfig, ContainerIDFile: '/tmp/web.cid' }, c.HostConfig);
  t.is(HostConfig.ContainerIDFile, '');
  // The network: alias and static address kept, the short-ID alias and the generated MAC not.
  t.deepEqual(NetworkingConfig.EndpointsConfig.app, { Aliases: ['web-alias'], Links: null, DriverOpts: null, IPAMConfig: { IPv4Address: '172.30.0.10' } });
  t.deepEqual(spec.changes.map((x) => x.change).sort(), ['alias', 'containerIdFile', 'label', 'macAddress']);
  for (const x of spec.changes) t.truthy(TWIN_CHANGES[x.change]);
});

test('--volume-map renames named volumes in binds and mounts, never bind paths, and says so', (t) => {
  const spec = twinSpec(inspected(), facts(), { name: 'web2', volumeMap: new Map([['redis-data', 'rd2'], ['cache', 'cache2'], ['etc', 'nope']]) });
  const h = spec.create.HostConfig as Record<string, any>;
  t.deepEqual(h.Binds, ['rd2:/data', '/etc/ssl:/etc/ssl:ro']);
  t.is(h.Mounts[0].Source, 'cache2');
  t.deepEqual(spec.changes.filter((x) => x.change === 'volumeMap' || x.change === 'name').map((x) => x.detail), ['web → web2', 'redis-data → rd2', 'cache → cache2']);
});

test('a static address is dropped (and reported) when the target network has other subnets', (t) => {
  const spec = twinSpec(inspected(), facts({ networks: { app: { subnets: ['10.9.0.0/24'], used: [] } } }), { name: 'web' });
  t.is((spec.create.NetworkingConfig as any).EndpointsConfig.app.IPAMConfig, undefined);
  t.true(spec.changes.some((x) => x.change === 'address' && x.detail.includes('172.30.0.10')));
  t.deepEqual(twinRefusals(inspected(), facts({ networks: { app: { subnets: ['10.9.0.0/24'], used: ['172.30.0.10'] } } })), [], 'a used address elsewhere does not matter');
});

test('the first network is NetworkMode\'s; the others are joined after create', (t) => {
  const c = inspected({ other: { Aliases: null }, app: { Aliases: ['a'] } });
  const spec = twinSpec(c, facts({ networks: { app: { subnets: [], used: [] }, other: { subnets: [], used: [] } } }), { name: 'web' });
  t.deepEqual(Object.keys((spec.create.NetworkingConfig as any).EndpointsConfig), ['app']);
  t.deepEqual(spec.connect.map((x) => x.network), ['other']);
});

test('what the target cannot provide is refused, each by name', (t) => {
  const r = twinRefusals(inspected(), facts({
    runtimes: ['io.containerd.runc.v2'], logDrivers: ['local'], missingDevices: ['/dev/fuse'], publishedPorts: ['tcp/16379'],
    networks: { app: { subnets: ['172.30.0.0/24'], used: ['172.30.0.10'] } },
  }));
  t.is(r.length, 5);
  for (const what of ['runtime runc', 'json-file log driver', 'device /dev/fuse', 'static address 172.30.0.10', 'port 16379/tcp']) t.true(r.some((x) => x.includes(what)), what);
  t.regex(twinRefusals(inspected(), facts({ networks: {} })).join(), /network app, which the target does not have/);
  t.deepEqual(twinRefusals(inspected(), facts()), []);
});
