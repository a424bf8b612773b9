import test from 'ava';
import { runcCheckpointArgs } from '../../../src/runc/runc.js';

const base = { root: '/run/docker/runtime-runc/moby', id: 'abc', imagesDir: '/w/pre-1' };

test('a pre-dump builds on its parent and never passes --leave-running (runc leaves it running anyway)', (t) => {
  t.deepEqual(runcCheckpointArgs({ ...base, preDump: true, parent: '../pre-0', leaveRunning: true }),
    ['runc', '--root', '/run/docker/runtime-runc/moby', 'checkpoint', '--image-path', '/w/pre-1', '--pre-dump', '--parent-path', '../pre-0', 'abc']);
});

test('the final dump: work path, parent, leave-running and a page server', (t) => {
  t.deepEqual(runcCheckpointArgs({ ...base, workDir: '/w/work', parent: '../pre-1', leaveRunning: true, pageServer: { host: '127.0.0.1', port: 4242 } }),
    ['runc', '--root', '/run/docker/runtime-runc/moby', 'checkpoint', '--image-path', '/w/pre-1', '--work-path', '/w/work', '--parent-path', '../pre-1',
      '--leave-running', '--page-server', '127.0.0.1:4242', 'abc']);
});
