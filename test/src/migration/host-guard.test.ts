/**
 * The dead man's switch (host-guard.ts): a node process tells a guard what to put back, then dies
 * with SIGKILL without releasing it; the guard puts everything back on its own.
 */
import test from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO } from '../../helpers/lab.js';
import { MARKER } from '../../../src/runc/runc-conf.js';

const GUARD = join(REPO, 'dist/src/migration/host-guard.js');
const LOCAL = join(REPO, 'dist/transports/local.js');
const LOCK = '/run/migrate/locks/guard-unit-test.lock';

const state = (pid: number) => execFileSync('sh', ['-c', `awk '{print $3}' /proc/${pid}/stat`], { encoding: 'utf8' }).trim();

/** A node process that starts a guard, runs `steps` on it (`g`), then dies without releasing it. */
function dieHolding(steps: string): Promise<void> {
  const script = `const { HostGuard } = await import(${JSON.stringify(GUARD)}); const { LocalTransport } = await import(${JSON.stringify(LOCAL)});
    const g = await HostGuard.start(new LocalTransport(), ${JSON.stringify(LOCK)}, 30); ${steps}; process.kill(process.pid, 'SIGKILL');`;
  const child = spawn('node', ['--input-type=module', '-e', script], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', () => resolve()));
}

async function stoppedSleeper(): Promise<number> {
  const p = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  p.unref();
  await sleep(50);
  process.kill(p.pid!, 'SIGSTOP');
  await sleep(50);
  return p.pid!;
}

/** A process that looks like the CRIU runc starts (`criu swrk`), for `s` seconds. */
const runcsCriu = (s: number) => spawn('sleep', [String(s)], { stdio: 'ignore', argv0: 'criu swrk' });

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (cond()) return true;
  return cond();
}

test.serial('migrate dying while the guard is armed resumes the stopped workload', async (t) => {
  const pid = await stoppedSleeper();
  try {
    t.is(state(pid), 'T');
    await dieHolding(`await g.arm([${pid}])`);
    t.true(await until(() => state(pid) === 'S'), 'resumed (sleeping again)');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

test.serial('once disarmed (restore started on the target), the guard never resumes it', async (t) => {
  const pid = await stoppedSleeper();
  try {
    await dieHolding(`await g.arm([${pid}]); await g.disarm()`);
    await sleep(1800);
    t.is(state(pid), 'T', 'still stopped');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

test.serial('a CRIU still running (a dump in flight) is waited for before the workload is resumed', async (t) => {
  const pid = await stoppedSleeper();
  const dir = mkdtempSync('/var/tmp/migrate-guard-');
  const criu = runcsCriu(3);
  try {
    const started = Date.now();
    await dieHolding(`await g.arm([${pid}])`);
    await sleep(1500);
    t.is(state(pid), 'T', 'not while CRIU runs');
    t.true(await until(() => state(pid) === 'S', 6000), 'resumed once it ended');
    t.true(Date.now() - started >= 2500);
  } finally {
    criu.kill('SIGKILL');
    process.kill(pid, 'SIGKILL');
    execFileSync('rm', ['-rf', dir]);
  }
});

test.serial('runc.conf holding our override is put back; a directory to remove is removed', async (t) => {
  const dir = mkdtempSync('/var/tmp/migrate-guard-');
  const conf = join(dir, 'runc.conf');
  writeFileSync(conf, `${MARKER}\nimages-dir /x\n`);
  writeFileSync(`${conf}.bak`, 'tcp-established\n');
  const doomed = mkdtempSync('/var/tmp/migrate-guard-doomed-');
  try {
    await dieHolding(`await g.guardRuncConf(${JSON.stringify(conf)}, ${JSON.stringify(`${conf}.bak`)}, ${JSON.stringify(dir)}); await g.remove(${JSON.stringify(doomed)})`);
    t.true(await until(() => !existsSync(doomed)), 'the run directory is gone');
    t.true(await until(() => readFileSync(conf, 'utf8') === 'tcp-established\n'), 'the previous runc.conf is back');
    t.false(existsSync(`${conf}.bak`));
  } finally {
    execFileSync('rm', ['-rf', dir, doomed]);
  }
});

test.serial('a runc.conf that is not ours (no marker) is left alone', async (t) => {
  const dir = mkdtempSync('/var/tmp/migrate-guard-');
  const conf = join(dir, 'runc.conf');
  writeFileSync(conf, 'tcp-close\n');
  writeFileSync(`${conf}.bak`, 'something else\n');
  try {
    await dieHolding(`await g.guardRuncConf(${JSON.stringify(conf)}, ${JSON.stringify(`${conf}.bak`)}, ${JSON.stringify(dir)})`);
    await sleep(1000);
    t.is(readFileSync(conf, 'utf8'), 'tcp-close\n');
  } finally {
    execFileSync('rm', ['-rf', dir]);
  }
});

test.serial('post-copy: an incomplete copy on the target (by its PID file) is killed and its PID file removed', async (t) => {
  const victim = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  const dir = mkdtempSync('/var/tmp/migrate-guard-');
  const pidfile = join(dir, 'run.pid');
  writeFileSync(pidfile, `${victim.pid}\n`);
  try {
    const started = Date.now();
    await dieHolding(`await g.incomplete({ pidfile: ${JSON.stringify(pidfile)} })`);
    t.true(await until(() => victim.exitCode !== null || victim.signalCode !== null), 'killed');
    t.is(victim.signalCode, 'SIGKILL');
    t.true(Date.now() - started < 3000, 'at once, not after the wait for CRIU');
    t.true(await until(() => !existsSync(pidfile)), 'its PID file is gone');
  } finally {
    victim.kill('SIGKILL');
    execFileSync('rm', ['-rf', dir]);
  }
});

/** A copy as a restore with leave-stopped makes it: a root with a child and a grandchild, all stopped, its root's PID in a PID file. */
async function stoppedCopy() {
  const root = spawn('sh', ['-c', 'sh -c "sleep 60 & wait" & wait'], { stdio: 'ignore', detached: true });
  await sleep(200);
  const childOf = (pid: number) => Number(execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim());
  const child = childOf(root.pid!);
  const grandchild = childOf(child);
  for (const p of [root.pid!, child, grandchild]) process.kill(p, 'SIGSTOP');
  const dir = mkdtempSync('/var/tmp/migrate-guard-');
  const pidfile = join(dir, 'run.pid');
  writeFileSync(pidfile, `${root.pid}\n`);
  const cleanup = () => {
    root.kill('SIGKILL');
    for (const p of [child, grandchild]) {
      try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
    execFileSync('rm', ['-rf', dir]);
  };
  return { root, child, grandchild, pidfile, cleanup };
}

test.serial('a copy restored stopped: resume-copy runs it (with its children) and it is still killed should migrate die', async (t) => {
  const { root, child, grandchild, pidfile, cleanup } = await stoppedCopy();
  try {
    await dieHolding(`await g.incomplete({ pidfile: ${JSON.stringify(pidfile)} }); await g.resumeCopy()`);
    t.true(await until(() => root.signalCode === 'SIGKILL'), 'killed once migrate died');
    t.true(await until(() => !existsSync(`/proc/${child}`) || state(child) === 'Z'), 'its child too');
    t.true(await until(() => !existsSync(`/proc/${grandchild}`) || state(grandchild) === 'Z'), 'and its grandchild');
  } finally {
    cleanup();
  }
});

test.serial('resume-copy with the copy\'s PID (Docker: migrate asked the Engine API): that tree runs, without the guard looking it up', async (t) => {
  const { root, child, grandchild, cleanup } = await stoppedCopy();
  try {
    t.is(state(grandchild), 'T');
    // A twin the guard cannot find: only the PID given can have resumed the copy.
    await dieHolding(`await g.incomplete({ twin: 'no-such-twin-${process.pid}' }); await g.resumeCopy(${root.pid})`);
    t.true(await until(() => state(root.pid!) === 'S' && state(child) === 'S' && state(grandchild) === 'S'), 'the copy, its child and grandchild run');
  } finally {
    cleanup();
  }
});

test.serial('the commit on the target (go): the stopped copy and its children run, and stay when migrate dies', async (t) => {
  const { root, child, grandchild, pidfile, cleanup } = await stoppedCopy();
  try {
    t.is(state(child), 'T');
    await dieHolding(`await g.incomplete({ pidfile: ${JSON.stringify(pidfile)} }); await g.go()`);
    await sleep(1800);
    t.is(root.exitCode, null, 'still there');
    t.is(root.signalCode, null, 'not killed');
    t.is(state(root.pid!), 'S', 'running (sleeping in wait), not stopped');
    t.is(state(child), 'S', 'its child runs too');
    t.is(state(grandchild), 'S', 'and its grandchild');
  } finally {
    cleanup();
  }
});

test.serial('post-copy: once the window closed (disarm), the target copy is kept', async (t) => {
  const victim = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  const dir = mkdtempSync('/var/tmp/migrate-guard-');
  const pidfile = join(dir, 'run.pid');
  writeFileSync(pidfile, `${victim.pid}\n`);
  try {
    await dieHolding(`await g.incomplete({ pidfile: ${JSON.stringify(pidfile)} }); await g.disarm()`);
    await sleep(1800);
    t.is(victim.exitCode, null, 'still running');
    t.true(existsSync(pidfile));
  } finally {
    victim.kill('SIGKILL');
    execFileSync('rm', ['-rf', dir]);
  }
});

test.serial('post-copy: the source\'s lazy page server is hung up on at its address, so a CRIU waiting for a daemon lets go', async (t) => {
  let connected = false;
  const server = createServer((s) => {
    connected = true;
    s.destroy();
  });
  // Not 127.0.0.1: on a direct page channel it listens on the source's own address.
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  try {
    await dieHolding(`await g.lazy({ host: '127.0.0.2', port: ${(server.address() as AddressInfo).port} })`);
    t.true(await until(() => connected), 'it connected');
  } finally {
    server.close();
  }
});

test.serial('a guard holds its lock until it put everything back: recover waits for it', async (t) => {
  const pid = await stoppedSleeper();
  const dir = mkdtempSync('/var/tmp/migrate-guard-');
  const criu = runcsCriu(3);
  const free = () => spawnSync('flock', ['-n', '-x', LOCK, 'true']).status === 0;
  try {
    await dieHolding(`await g.arm([${pid}])`);
    t.false(free(), 'held while it waits for CRIU');
    t.true(await until(() => state(pid) === 'S', 6000), 'resumed');
    t.true(await until(() => free()), 'then free');
  } finally {
    criu.kill('SIGKILL');
    process.kill(pid, 'SIGKILL');
    execFileSync('rm', ['-rf', dir]);
  }
});

test.serial('a CRIU working for another run does not hold the resume back; a lazy-pages daemon and a page server of this run are ended', async (t) => {
  const pid = await stoppedSleeper();
  const doomed = mkdtempSync('/var/tmp/migrate-guard-doomed-');
  const other = spawn('sleep', ['8'], { stdio: 'ignore', argv0: 'criu dump -D /var/lib/migrate/someone-else-1/images' });
  const daemon = spawn('sleep', ['60'], { stdio: 'ignore', argv0: `criu lazy-pages -D ${doomed}/images -W ${doomed}/work` });
  // A page server started for a dump that never came (migrate died in between): it would wait for good.
  const server = spawn('sleep', ['60'], { stdio: 'ignore', argv0: `criu page-server -D ${doomed}/images -W ${doomed}/work --port 1` });
  try {
    const started = Date.now();
    await dieHolding(`await g.arm([${pid}]); await g.remove(${JSON.stringify(doomed)})`);
    t.true(await until(() => state(pid) === 'S', 6000), 'resumed');
    t.true(Date.now() - started < 5000, `without waiting for the other CRIU (${Date.now() - started} ms)`);
    t.true(await until(() => daemon.signalCode === 'SIGKILL'), 'its lazy-pages daemon was ended');
    t.true(await until(() => server.signalCode === 'SIGKILL'), 'its page server was ended');
    t.is(other.exitCode, null, 'the other run\'s CRIU was left alone');
  } finally {
    other.kill('SIGKILL');
    daemon.kill('SIGKILL');
    server.kill('SIGKILL');
    process.kill(pid, 'SIGKILL');
    execFileSync('rm', ['-rf', doomed]);
  }
});

test.serial('a lazy page server that starts listening only after migrate died is hung up on all the same, and the workload resumed', async (t) => {
  const pid = await stoppedSleeper();
  const doomed = mkdtempSync('/var/tmp/migrate-guard-lazy-');
  // The dump of this run, still at work (it counts as busy), whose page server listens later.
  const dump = spawn('sleep', ['20'], { stdio: 'ignore', argv0: `criu dump -D ${doomed}/images --lazy-pages` });
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve())); // nothing listens when migrate dies
  try {
    await dieHolding(`await g.arm([${pid}]); await g.remove(${JSON.stringify(doomed)}); await g.lazy({ host: '127.0.0.1', port: ${port} })`);
    await sleep(1500);
    const hungUp = new Promise<boolean>((resolve) => {
      const late = createServer((s) => {
        s.destroy();
        late.close();
        dump.kill('SIGKILL'); // as CRIU does once its page stream ends
        resolve(true);
      });
      late.listen(port, '127.0.0.1');
      setTimeout(() => { late.close(); resolve(false); }, 5000);
    });
    t.true(await hungUp, 'the guard connected to the late listener');
    t.true(await until(() => state(pid) === 'S', 6000), 'then resumed');
  } finally {
    dump.kill('SIGKILL');
    process.kill(pid, 'SIGKILL');
    execFileSync('rm', ['-rf', doomed]);
  }
});
