/** The dead man's switch: a stopped workload is resumed when migrate dies, unless disarmed. */
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO } from '../../helpers/lab.js';

const GUARD = join(REPO, 'dist/src/migration/source-guard.js');
const LOCAL = join(REPO, 'dist/transports/local.js');

const state = (pid: number) => execFileSync('sh', ['-c', `awk '{print $3}' /proc/${pid}/stat`], { encoding: 'utf8' }).trim();

/** A node process that starts a guard for `pid`, runs `steps`, then dies without releasing it. */
function dieHolding(pid: number, steps: string): Promise<void> {
  const script = `const { SourceGuard } = await import(${JSON.stringify(GUARD)}); const { LocalTransport } = await import(${JSON.stringify(LOCAL)});
    const g = await SourceGuard.start(new LocalTransport()); await g.arm([${pid}]); ${steps}; process.kill(process.pid, 'SIGKILL');`;
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

test('migrate dying while the guard is armed resumes the stopped workload', async (t) => {
  const pid = await stoppedSleeper();
  try {
    t.is(state(pid), 'T');
    await dieHolding(pid, '');
    for (let i = 0; i < 50 && state(pid) === 'T'; i++) await sleep(50);
    t.is(state(pid), 'S', 'resumed (sleeping again)');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

test('once disarmed (restore started on the target), the guard never resumes it', async (t) => {
  const pid = await stoppedSleeper();
  try {
    await dieHolding(pid, 'await g.disarm()');
    await sleep(500);
    t.is(state(pid), 'T', 'still stopped');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});
