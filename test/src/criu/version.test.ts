import test from 'ava';
import { compareVersions, parseCriuVersion } from '../../../src/criu/version.js';
import { criuErrorLines } from '../../../src/criu/log.js';
import { dumpArgs, restoreArgs } from '../../../src/criu/run.js';

test('parses criu --version', (t) => {
  t.deepEqual(parseCriuVersion('Version: 4.1.1\nGitID: v4.1.1\n'), { major: 4, minor: 1, sublevel: 1, text: '4.1.1' });
  t.deepEqual(parseCriuVersion('Version: 3.17\n'), { major: 3, minor: 17, sublevel: 0, text: '3.17' });
  t.is(parseCriuVersion('criu: command not found'), undefined);
  t.true(compareVersions(parseCriuVersion('Version: 4.2')!, parseCriuVersion('Version: 4.1.1')!) > 0);
});

test('picks Error lines from a CRIU log, not the harmless rlimit one', (t) => {
  const log = '(00.01) Error (criu/util.c:1533): rlimit: Can\'t setup RLIMIT_NOFILE for self\n(00.02) Info\n(00.03) Error (criu/cr-dump.c:12): Dumping FAILED.\n';
  t.deepEqual(criuErrorLines(log), ['(00.03) Error (criu/cr-dump.c:12): Dumping FAILED.']);
});

test('typed options become criu arguments', (t) => {
  t.deepEqual(dumpArgs({ pid: 5, imagesDir: '/i', preDump: true, trackMem: true, prevImagesDir: '../p' }),
    ['pre-dump', '-t', '5', '-D', '/i', '-o', 'pre-dump.log', '-v4', '--track-mem', '--prev-images-dir', '../p']);
  t.deepEqual(dumpArgs({ pid: 5, imagesDir: '/i', workDir: '/w', lazyPages: true, pageServer: { address: '127.0.0.1', port: 27 } }),
    ['dump', '-t', '5', '-D', '/i', '-o', 'dump.log', '-v4', '-W', '/w', '--lazy-pages', '--page-server', '--address', '127.0.0.1', '--port', '27']);
  t.deepEqual(restoreArgs({ imagesDir: '/i', pidfile: '/p' }), ['restore', '-D', '/i', '-o', 'restore.log', '-v4', '-d', '--pidfile', '/p']);
});
