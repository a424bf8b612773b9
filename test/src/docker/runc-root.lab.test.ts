/**
 * Docker pre-copy runs runc itself on Docker's containers (containerd has no pre-dump): runc must
 * find the container under the daemon's runc root, on a host with the default exec-root (A) and
 * on one whose dockerd runs with --exec-root (B).
 */
import test from 'ava';
import { LocalTransport } from '../../../transports/local.js';
import { SshTransport } from '../../../transports/ssh/ssh-transport.js';
import { isMigrateError } from '../../../transports/errors.js';
import { dockerRuncRoot } from '../../../src/docker/runc-root.js';
import { runcState } from '../../../src/runc/runc.js';
import { containerId, removeEverywhere, startContainer } from '../../helpers/containers.js';
import { ensureLab, sshOpts } from '../../helpers/lab.js';

const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
test.after.always(() => b.close());

for (const [label, host] of [['A (default exec-root)', a], ['B (--exec-root)', b]] as const) {
  test.serial(`runc finds a running Docker container under the root found on ${label}`, async (t) => {
    const name = await startContainer(host, 8, 100);
    try {
      const id = await containerId(host, name);
      const root = await dockerRuncRoot(host, id);
      t.regex(root, /\/runtime-runc\/moby$/);
      const state = await runcState(host, root, id);
      t.is(state?.status, 'running');
      const pid = Number((await host.exec(['docker', 'inspect', '-f', '{{.State.Pid}}', name])).stdout.trim());
      t.is(state?.pid, pid, "runc's init PID is Docker's");
    } finally {
      await removeEverywhere(name, a, b);
    }
  });
}

test.serial('a container runc does not know is refused with what to do', async (t) => {
  const e = await t.throwsAsync(dockerRuncRoot(a, 'f'.repeat(64)));
  t.true(isMigrateError(e, 'PREFLIGHT'), String(e));
  t.regex(isMigrateError(e) ? e.hint ?? '' : '', /--strategy cold or postcopy/);
});
