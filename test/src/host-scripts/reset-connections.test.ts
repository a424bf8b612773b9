/**
 * reset-connections.sh resets the established connections of a stopped workload in a network
 * namespace of its own, and touches nothing when the namespace is the host's or a process in it
 * runs. The workload here: node in `unshare -n`, connected to itself over loopback.
 */
import test from 'ava';
import { execa, type ResultPromise } from 'execa';
import { LocalTransport } from '../../../transports/local.js';
import { EXIT, hostScript } from '../../../src/host-scripts/index.js';

const local = new LocalTransport();

/** A server and a client connected to it, in a new network namespace; prints "ready", and "reset" when the client's connection was destroyed (its own end: ECONNABORTED) or reset (the server's: ECONNRESET). */
const WORKLOAD = `
const net = require('node:net');
const server = net.createServer((s) => s.on('error', () => {})).listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => console.log('ready'));
  c.on('error', (e) => console.log(e.code === 'ECONNRESET' || e.code === 'ECONNABORTED' ? 'reset' : e.code));
  c.on('close', () => process.exit(0));
});
setTimeout(() => process.exit(3), 20000);
`;

async function workload(): Promise<{ proc: ResultPromise; pid: number; said: string[] }> {
  const proc = execa('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" -e "$1"', process.execPath, WORKLOAD], { reject: false });
  const said: string[] = [];
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      said.push(...d.toString().split('\n').filter(Boolean));
      if (said.includes('ready')) resolve();
    });
    proc.once('exit', () => reject(new Error(`the workload ended: ${said.join(' ')}`)));
  });
  return { proc, pid: proc.pid!, said };
}

test('a stopped workload in its own namespace: its connection is reset, and its peer learns it', async (t) => {
  const w = await workload();
  t.teardown(() => w.proc.kill('SIGKILL'));
  process.kill(w.pid, 'SIGSTOP');
  const r = await local.exec(hostScript('reset-connections', String(w.pid)), { allowFailure: true });
  t.is(r.exitCode, 0, r.stderr);
  t.true(Number(r.stdout.trim()) >= 1, `reset ${r.stdout.trim()}`);
  process.kill(w.pid, 'SIGCONT');
  await w.proc;
  t.true(w.said.includes('reset'), w.said.join(' '));
});

test('a workload that runs: nothing touched', async (t) => {
  const w = await workload();
  t.teardown(() => w.proc.kill('SIGKILL'));
  const r = await local.exec(hostScript('reset-connections', String(w.pid)), { allowFailure: true });
  t.is(r.exitCode, EXIT.NOT_ITS_OWN_NETNS, r.stderr);
  await new Promise((res) => setTimeout(res, 200));
  t.false(w.said.includes('reset'));
});

test('a process in the host\'s namespace: nothing touched; a process gone: exit 4', async (t) => {
  const host = await local.exec(hostScript('reset-connections', String(process.pid)), { allowFailure: true });
  t.is(host.exitCode, EXIT.NOT_ITS_OWN_NETNS, host.stderr);
  const gone = await local.exec(hostScript('reset-connections', '999999999'), { allowFailure: true });
  t.is(gone.exitCode, 4);
});
