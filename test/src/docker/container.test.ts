import test from 'ava';
import { createArgs, isAnonymousVolume, volumeMounts, type ContainerInfo, type Inspect } from '../../../src/docker/container.js';

function info(over: { Binds?: string[]; Mounts?: Inspect['HostConfig']['Mounts']; Volumes?: Record<string, unknown>; mounts?: Inspect['Mounts'] }): ContainerInfo {
  const raw = {
    Id: 'c'.repeat(64), Name: '/web', Image: 'sha256:x', State: { Running: true, Paused: false, Pid: 1 },
    Config: { Image: 'img', Entrypoint: null, Cmd: ['run'], Env: null, Labels: null, WorkingDir: '', User: '', Tty: false, OpenStdin: false, Hostname: '', Volumes: over.Volumes ?? null },
    HostConfig: {
      Binds: over.Binds ?? null, NetworkMode: 'default', PortBindings: null, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      SecurityOpt: null, CapAdd: null, CapDrop: null, Privileged: false, Memory: 0, NanoCpus: 0, Tmpfs: null, ShmSize: 0, AutoRemove: false,
      Mounts: over.Mounts ?? null,
    },
    Mounts: over.mounts ?? [],
  } as Inspect;
  return { id: raw.Id, name: 'web', running: true, image: 'img', raw };
}

test('--volume-map renames named volumes in -v and --mount, never bind paths', (t) => {
  const args = createArgs(info({
    Binds: ['data:/data:ro', '/srv/conf:/etc/conf'],
    Mounts: [{ Type: 'volume', Source: 'cache', Target: '/cache', ReadOnly: true }, { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1024, Mode: 0o1777 } }],
  }), 'web', new Map([['data', 'data2'], ['cache', 'cache2'], ['srv', 'nope']]));
  t.true(args.join(' ').includes('--volume data2:/data:ro --volume /srv/conf:/etc/conf'));
  t.true(args.includes('type=volume,source=cache2,target=/cache,readonly'));
  t.true(args.includes('type=tmpfs,target=/scratch,tmpfs-size=1024,tmpfs-mode=1777'));
});

test('anonymous volumes made with -v /path are made again on the target', (t) => {
  const args = createArgs(info({ Binds: ['data:/data'], Volumes: { '/data': {}, '/anon': {} } }), 'web');
  t.is(args.filter((a) => a === '/anon').length, 1);
  t.false(args.includes('/data'), 'not twice: /data is already a named volume');
});

test('volume mounts are told apart: named by the user or anonymous (64 hex digits)', (t) => {
  const anon = 'a'.repeat(64);
  t.true(isAnonymousVolume(anon));
  t.false(isAnonymousVolume('pgdata'));
  t.deepEqual(volumeMounts(info({ mounts: [
    { Type: 'volume', Name: anon, Source: `/v/${anon}/_data`, Destination: '/x', RW: true },
    { Type: 'bind', Source: '/srv', Destination: '/srv', RW: true },
  ] })), [{ name: anon, source: `/v/${anon}/_data`, destination: '/x', anonymous: true }]);
});
