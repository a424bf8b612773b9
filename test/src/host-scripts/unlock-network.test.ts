/**
 * unlock-network.sh lifts the lock a leave-stopped CRIU dump leaves in a workload's own network
 * namespace (CRIU's iptables chain, as criu/net.c installs it), and touches nothing in the host's.
 */
import test from 'ava';
import { execa } from 'execa';
import { LocalTransport } from '../../../transports/local.js';
import { hostScript } from '../../../src/host-scripts/index.js';

const local = new LocalTransport();

/** CRIU's network lock in a namespace (criu/net.c network_lock_internal, iptables method). */
const LOCK = 'iptables -N CRIU && iptables -A CRIU -m mark --mark 0xC114 -j ACCEPT && iptables -A CRIU -j DROP && iptables -I INPUT -j CRIU && iptables -I OUTPUT -j CRIU';

test('the lock in a namespace of its own is lifted: the chain and its jumps are gone', async (t) => {
  const ns = execa('unshare', ['-n', 'sh', '-c', `${LOCK} && echo locked && exec sleep 20`]);
  t.teardown(() => ns.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    ns.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    ns.catch(reject);
  });
  const pid = String(ns.pid);
  const before = (await execa('nsenter', ['-t', pid, '-n', 'iptables', '-S'])).stdout;
  t.regex(before, /-A OUTPUT -j CRIU/);
  const r = await local.exec(hostScript('unlock-network', pid), { allowFailure: true });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /^iptables CRIU$/m);
  const after = (await execa('nsenter', ['-t', pid, '-n', 'iptables', '-S'])).stdout;
  t.notRegex(after, /CRIU/);
  const again = await local.exec(hostScript('unlock-network', pid), { allowFailure: true });
  t.is(again.exitCode, 0, again.stderr);
  t.is(again.stdout, '', 'nothing left to lift');
});

test('the host\'s namespace is not touched; a process gone: exit 4', async (t) => {
  const r = await local.exec(hostScript('unlock-network', String(process.pid)), { allowFailure: true });
  t.is(r.exitCode, 0);
  t.is(r.stdout, '');
  t.is((await local.exec(hostScript('unlock-network', '999999999'), { allowFailure: true })).exitCode, 4);
});
