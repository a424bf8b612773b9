import test from 'ava';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../../../transports/local.js';
import { restoreMountOptions } from '../../../src/docker/restore-mounts.js';
import type { Inspect } from '../../../src/docker/container.js';

test('symlinked bind sources and a symlinked docker-init are named to CRIU by their real files; plain ones not at all', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mounts-'));
  writeFileSync(join(dir, 'real.conf'), 'x');
  symlinkSync(join(dir, 'real.conf'), join(dir, 'link.conf'));
  writeFileSync(join(dir, 'tini-static'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('tini-static', join(dir, 'docker-init'));
  process.env.PATH = `${dir}:${process.env.PATH}`;
  const c = {
    HostConfig: {
      Binds: [`${join(dir, 'link.conf')}:/etc/app.conf:ro`, `${join(dir, 'real.conf')}:/etc/plain.conf`, 'named-volume:/data'],
      Mounts: [{ Type: 'bind', Source: join(dir, 'link.conf'), Target: '/etc/again.conf' }],
      Init: true,
    },
  } as unknown as Inspect;
  t.deepEqual(await restoreMountOptions(new LocalTransport(), c), [
    `external mnt[/etc/app.conf]:${join(dir, 'real.conf')}`,
    `external mnt[/etc/again.conf]:${join(dir, 'real.conf')}`,
    `external mnt[/sbin/docker-init]:${join(dir, 'tini-static')}`,
  ]);
  t.deepEqual(await restoreMountOptions(new LocalTransport(), { HostConfig: { Binds: null, Mounts: null } } as unknown as Inspect), []);
});
