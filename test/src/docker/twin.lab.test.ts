/**
 * The target's container is the same container (issue 17): one started with many settings is
 * migrated A → B and both `docker inspect`s are compared field by field; what the target cannot
 * provide is refused before the freeze, by name.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import type { Transport } from '../../../transports/transport.js';
import { migrate, isMigrateError, type MigrationReport } from '../../../src/index.js';
import { TWIN_LABEL } from '../../../src/docker/container.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';
import { continuous } from '../../helpers/workload.js';
import { checksum, exists, logs, removeEverywhere, running, tickNums } from '../../helpers/containers.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
const tag = `${process.pid}`;
/** On both hosts, same subnet: a static address carries over. */
const SAME = `twin-same-${tag}`;
/** On both hosts, other subnets: the address changes. */
const OTHER = `twin-other-${tag}`;
/** Only on A. */
const ONLY_A = `twin-only-a-${tag}`;
const names: string[] = [];

test.before(async () => {
  await cleanUp();
  for (const [h, other] of [[a, '172.31.78.0/24'], [b, '172.31.79.0/24']] as const) {
    await h.exec(['docker', 'network', 'create', '--subnet', '172.31.77.0/24', SAME]);
    await h.exec(['docker', 'network', 'create', '--subnet', other, OTHER]);
  }
  await a.exec(['docker', 'network', 'create', ONLY_A]);
});

async function cleanUp(): Promise<void> {
  for (const name of names) await removeEverywhere(name, a, b);
  for (const h of [a, b]) {
    for (const net of [SAME, OTHER, ONLY_A]) await h.exec(['docker', 'network', 'rm', net], { allowFailure: true });
  }
}

test.after.always(async () => {
  await cleanUp();
  await b.close();
});

async function start(h: Transport, settings: string[]): Promise<string> {
  const name = `twin-${tag}-${names.length + 1}`;
  names.push(name);
  await h.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined', ...settings,
    lab.image, '--mib', '16', '--tick-ms', '50']);
  for (let i = 0; i < 100 && !/^tick /m.test(await logs(h, name)); i++) await sleep(100);
  return name;
}

type Json = Record<string, unknown>;
const inspect = async (h: Transport, name: string): Promise<Json> => (JSON.parse((await h.exec(['docker', 'container', 'inspect', name])).stdout) as Json[])[0]!;

/** Every leaf path where the two differ ("HostConfig.Memory"), arrays compared whole. */
function differences(x: unknown, y: unknown, path = ''): string[] {
  if (JSON.stringify(x) === JSON.stringify(y)) return [];
  const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(x) || !isObj(y)) return [path];
  const keys = new Set([...Object.keys(x as Json), ...Object.keys(y as Json)]);
  return [...keys].flatMap((k) => differences((x as Json)[k], (y as Json)[k], path ? `${path}.${k}` : k));
}

/** The settings (at least fifteen of issue 17's list that this lab can run). */
const SETTINGS = [
  '--read-only', '--tmpfs', '/tmp:size=8m',
  '--pids-limit', '64',
  '--ulimit', 'nofile=1024:2048',
  '--cpu-shares', '512', '--cpuset-cpus', '0',
  '--memory', '256m', '--memory-reservation', '128m',
  '--sysctl', 'net.ipv4.ip_unprivileged_port_start=0',
  '--dns', '10.0.0.53', '--dns-search', 'lab.example', '--dns-option', 'ndots:2',
  '--add-host', 'db.lab.example:10.0.0.5',
  '--init',
  '--hostname', 'twin-host', '--domainname', 'lab.example',
  '--ipc', 'private',
  '--runtime', 'runc',
  '--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2',
  // A health check runs a process inside the container, which CRIU cannot dump alongside: an
  // interval longer than the test keeps it from running during the checkpoint.
  '--health-cmd', 'true', '--health-interval', '1h', '--health-retries', '2',
  '--group-add', '20',
  '--oom-score-adj', '100',
  '--cap-drop', 'NET_RAW', '--security-opt', 'no-new-privileges',
  '--stop-signal', 'SIGINT', '--stop-timeout', '5',
  '--restart', 'unless-stopped',
  '--shm-size', '32m',
  '--env', 'TWIN=1', '--workdir', '/tmp', '--label', 'tier=cache',
  '--publish', '127.0.0.1:16399:6379',
];

test.serial('a container with thirty settings is the same container on the target: inspect differs only where migrate says so', async (t) => {
  const name = await start(a, [...SETTINGS, '--network', SAME, '--network-alias', 'cache', '--ip', '172.31.77.10']);
  await a.exec(['docker', 'network', 'connect', '--alias', 'second', OTHER, name]);
  const before = await inspect(a, name);
  const sum = await checksum(a, name);
  const report: MigrationReport = await migrate({ container: name, source: a, target: b });
  t.is(report.outcome, 'migrated', JSON.stringify(report.error));
  t.is(await running(b, name), 'true');
  await sleep(300);
  const onB = tickNums(await logs(b, name));
  t.true(onB.length > 2 && continuous(onB));
  t.is(await checksum(b, name), sum);
  const after = await inspect(b, name);

  // Config and HostConfig: only the twin label.
  t.deepEqual(differences(before.Config, after.Config, 'Config'), [`Config.Labels.${TWIN_LABEL}`]);
  t.is((after.Config as Json & { Labels: Json }).Labels[TWIN_LABEL], before.Id);
  t.deepEqual(differences(before.HostConfig, after.HostConfig, 'HostConfig'), []);
  // Networks: both joined, aliases and the static address kept; per-endpoint IDs and the
  // generated MAC are the target's own; on OTHER (other subnet) the address changed.
  const nets = (x: Json) => (x.NetworkSettings as { Networks: Record<string, Json> }).Networks;
  t.deepEqual(Object.keys(nets(after)).sort(), [OTHER, SAME].sort());
  // Docker (before API 1.44) adds each container's short ID to its aliases: the twin has its own.
  const perEndpoint = ['NetworkID', 'EndpointID', 'MacAddress', 'DNSNames', 'Gateway', 'IPAddress', 'IPPrefixLen'];
  const ownAliasesOut = (x: Json, net: string) => {
    const e = { ...nets(x)[net]! };
    e.Aliases = ((e.Aliases as string[] | null) ?? []).filter((al) => al !== String(x.Id).slice(0, 12));
    return e;
  };
  for (const net of [SAME, OTHER]) {
    const diff = differences(ownAliasesOut(before, net), ownAliasesOut(after, net)).filter((f) => !perEndpoint.includes(f.split('.')[0]!));
    t.deepEqual(diff, [], `network ${net}`);
  }
  t.is(nets(after)[SAME]!.IPAddress, '172.31.77.10');
  t.true((ownAliasesOut(after, SAME).Aliases as string[]).includes('cache'));
  t.regex(String(nets(after)[OTHER]!.IPAddress), /^172\.31\.79\./);
  t.deepEqual(report.container!.networks.map((n) => [n.name, n.address_changed]).sort(), [[OTHER, true], [SAME, false]].sort());
  t.deepEqual([...new Set(report.container!.changes.map((c) => c.change))].sort(), ['alias', 'label', 'macAddress']);

  // Inside: what Docker makes from those settings on the target.
  const inside = async (cmd: string) => (await b.exec(['docker', 'exec', name, 'sh', '-c', cmd])).stdout;
  // On a user-defined network Docker's embedded DNS (127.0.0.11) forwards to --dns.
  t.regex(await inside('cat /etc/resolv.conf'), /search lab\.example[\s\S]*ndots:2/);
  t.regex(await inside('cat /etc/hosts'), /10\.0\.0\.5\s+db\.lab\.example/);
  t.is((await inside('hostname')).trim(), 'twin-host');
  t.is((await inside('ulimit -n')).trim(), '1024');
  await t.throwsAsync(b.exec(['docker', 'exec', name, 'touch', '/ro-test']), undefined, 'the root filesystem is read-only');
  t.log(`freeze ${report.freeze_ms} ms: ${JSON.stringify(report.phases_ms)}`);
});

test.serial('a container on a network the target lacks is refused before the freeze, naming it', async (t) => {
  const name = await start(a, ['--network', ONLY_A]);
  const ticks = tickNums(await logs(a, name)).length;
  const e = await t.throwsAsync(migrate({ container: name, source: a, target: b }));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(e!.message, new RegExp(`network ${ONLY_A}, which the target does not have`));
  t.false(await exists(b, name), 'nothing made on the target');
  await sleep(300);
  t.true(tickNums(await logs(a, name)).length > ticks, 'it kept running');
});

test.serial('a static address already used on the target is refused before the freeze, naming it', async (t) => {
  const squatter = await start(b, ['--network', SAME, '--ip', '172.31.77.20']);
  t.truthy(squatter);
  const name = await start(a, ['--network', SAME, '--ip', '172.31.77.20']);
  const e = await t.throwsAsync(migrate({ container: name, source: a, target: b }));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(e!.message, /static address 172\.31\.77\.20 on network twin-same-\d+ is already used on the target/);
  t.is(await running(a, name), 'true');
});
