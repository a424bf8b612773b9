/**
 * unlock-network.sh lifts the lock a leave-stopped CRIU dump leaves: in a workload's own network
 * namespace (CRIU's iptables chain, as criu/net.c installs it), and on the connections a `--tcp
 * keep` dump put in repair mode (with, in the host's namespace, the DROP rules CRIU added for
 * each: criu/netfilter.c). Nothing else is touched.
 */
import test from 'ava';
import { execa } from 'execa';
import { LocalTransport } from '../../../transports/local.js';
import { hostScript } from '../../../src/host-scripts/index.js';

const local = new LocalTransport();

/** CRIU's network lock in a namespace (criu/net.c network_lock_internal, iptables method). */
const LOCK = 'iptables -N CRIU && iptables -A CRIU -m mark --mark 0xC114 -j ACCEPT && iptables -A CRIU -j DROP && iptables -I INPUT -j CRIU && iptables -I OUTPUT -j CRIU';

test.serial('the lock in a namespace of its own is lifted: the chain and its jumps are gone', async (t) => {
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

test.serial('the host\'s namespace is not touched; a process gone: exit 4', async (t) => {
  const r = await local.exec(hostScript('unlock-network', String(process.pid)), { allowFailure: true });
  t.is(r.exitCode, 0);
  t.is(r.stdout, '');
  t.is((await local.exec(hostScript('unlock-network', '999999999'), { allowFailure: true })).exitCode, 4);
});

/** A process with a loopback connection, one end put in repair mode as CRIU's dump does (libsoccr_pause). */
const REPAIRED = 'import socket, time\n'
  + 's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()\n'
  + 'c = socket.create_connection(s.getsockname()); a, _ = s.accept()\n'
  + 'c.setsockopt(socket.SOL_TCP, 19, 1)\n'
  + 'print(c.getsockname()[1], c.getpeername()[1], flush=True); time.sleep(30)\n';

test.serial('a connection in repair mode is taken out of it, and the DROP rules CRIU added for it in the host\'s namespace go; other rules stay', async (t) => {
  const p = execa('python3', ['-c', REPAIRED]);
  t.teardown(() => p.kill('SIGKILL'));
  const [lport, pport] = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim().split(/\s+/));
    });
    p.catch(reject);
  });
  const rule = (op: string, chain: string, src: string, sport: string, dst: string, dport: string) =>
    ['-w', '-t', 'filter', op, chain, '--protocol', 'tcp', '-m', 'mark', '!', '--mark', '0xC114', '--source', src, '--sport', sport, '--destination', dst, '--dport', dport, '-j', 'DROP'];
  await execa('iptables', rule('-I', 'INPUT', '127.0.0.1', pport!, '127.0.0.1', lport!));
  await execa('iptables', rule('-I', 'OUTPUT', '127.0.0.1', lport!, '127.0.0.1', pport!));
  const other = rule('-I', 'INPUT', '127.0.0.1', '1', '127.0.0.1', '2');
  await execa('iptables', other);
  t.teardown(async () => {
    for (const r of [rule('-D', 'INPUT', '127.0.0.1', pport!, '127.0.0.1', lport!), rule('-D', 'OUTPUT', '127.0.0.1', lport!, '127.0.0.1', pport!), rule('-D', 'INPUT', '127.0.0.1', '1', '127.0.0.1', '2')]) {
      await execa('iptables', r, { reject: false });
    }
  });
  const r = await local.exec(hostScript('unlock-network', String(p.pid)), { allowFailure: true });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^tcp repair off ${p.pid} \\d+ 127\\.0\\.0\\.1:${lport} 127\\.0\\.0\\.1:${pport}$`, 'm'));
  t.is(r.stdout.split('\n').filter((l) => l.startsWith('iptables rule')).length, 2, r.stdout);
  const left = (await execa('iptables', ['-S'])).stdout;
  t.notRegex(left, new RegExp(`--sport ${pport} `), 'the INPUT rule is gone');
  t.notRegex(left, new RegExp(`--sport ${lport} `), 'the OUTPUT rule is gone');
  t.regex(left, /--sport 1 .*--dport 2 /, 'another connection\'s rule stays');
  const again = await local.exec(hostScript('unlock-network', String(p.pid)), { allowFailure: true });
  t.is(again.stdout, '', 'nothing left in repair mode');
});
