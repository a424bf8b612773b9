import test from 'ava';
import { compareVersions, parseCriuVersion, versionProblem } from '../../../src/criu/version.js';
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
  t.deepEqual(restoreArgs({ imagesDir: '/i', lazyPages: true, leaveStopped: true, extraArgs: ['--tcp-close'] }),
    ['restore', '-D', '/i', '-o', 'restore.log', '-v4', '-d', '--lazy-pages', '--leave-stopped', '--tcp-close']);
});

test('CRIU before 4.2 is refused on kernels from 6.16 on, which refuse SO_PASSCRED on TCP sockets', (t) => {
  const v411 = parseCriuVersion('Version: 4.1.1')!;
  const v421 = parseCriuVersion('Version: 4.2.1')!;
  t.regex(versionProblem(v411, '6.18.0-1-cloud-amd64\n')!, /CRIU 4\.1\.1 cannot dump a process with a TCP socket on kernel 6\.18\.0-1-cloud-amd64 .*4\.2 or newer/);
  t.regex(versionProblem(v411, '6.16.0')!, /TCP socket/);
  t.is(versionProblem(v411, '6.15.9'), undefined);
  t.is(versionProblem(v411, '6.1.0-27-cloud-amd64'), undefined, 'the soft-dirty guest kernel');
  t.is(versionProblem(v421, '6.18.0'), undefined);
  t.is(versionProblem(v421, '7.0.1'), undefined);
  t.regex(versionProblem(v411, '7.0')!, /TCP/);
  t.regex(versionProblem(parseCriuVersion('Version: 3.17.1')!, '6.1.0')!, /older than 4\.1/);
});
