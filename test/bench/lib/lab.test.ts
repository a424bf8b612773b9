import test from 'ava';
import { routeTo, targetAddress, type Lab } from '../../../bench/lib/lab.js';
import { LocalTransport } from '../../../transports/local.js';

const lab = (url: string): Lab => ({ url, hostSpec: url.replace(/^ssh:\/\//, ''), key: '', knownHosts: '', image: '' });

test('targetAddress: the host of the target\'s URL, without user or port', (t) => {
  t.is(targetAddress(lab('ssh://root@10.231.0.2')), '10.231.0.2');
  t.is(targetAddress(lab('ssh://root@10.231.0.2:2222')), '10.231.0.2');
  t.is(targetAddress(lab('ssh://10.0.0.9')), '10.0.0.9');
});

test('routeTo: the device and source address of this host\'s route (ip route get)', async (t) => {
  t.deepEqual(await routeTo(new LocalTransport(), '127.0.0.1'), { dev: 'lo', src: '127.0.0.1' });
  await t.throwsAsync(routeTo(new LocalTransport(), 'not-an-address'));
});
