import test from 'ava';
import { isAnonymousVolume, unsupported, volumeMounts, type ContainerInfo, type Inspect } from '../../../src/docker/container.js';

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

test('volume mounts are told apart: named by the user or anonymous (64 hex digits)', (t) => {
  const anon = 'a'.repeat(64);
  t.true(isAnonymousVolume(anon));
  t.false(isAnonymousVolume('pgdata'));
  t.deepEqual(volumeMounts(info({ mounts: [
    { Type: 'volume', Name: anon, Source: `/v/${anon}/_data`, Destination: '/x', RW: true },
    { Type: 'bind', Source: '/srv', Destination: '/srv', RW: true },
  ] })), [{ name: anon, source: `/v/${anon}/_data`, destination: '/x', anonymous: true }]);
});

test('settings whose other half stays on the source are refused by name', (t) => {
  const c = info({});
  Object.assign(c.raw.HostConfig, { VolumesFrom: ['data'], Links: ['/db:/web/db'], IpcMode: 'container:abc', PidMode: 'host' });
  const r = unsupported(c).join('\n');
  for (const what of ['--volumes-from data', '--link', '--ipc container:abc', '--pid host']) t.true(r.includes(what), what);
});
