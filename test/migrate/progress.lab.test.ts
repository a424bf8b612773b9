/**
 * What an operator sees in a terminal (tmux, a real TTY): the memory bar moving during a 512 MiB
 * cold migration — bytes, rate and ETA redrawn in place — and the report after it (issue 19).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LocalTransport } from '../../transports/local.js';
import { SshTransport } from '../../transports/ssh/ssh-transport.js';
import { ensureLab, sshOpts } from '../helpers/lab.js';
import { CLI } from '../helpers/cli.js';
import { removeEverywhere, running, startContainer } from '../helpers/containers.js';

const run = promisify(execFile);
const lab = ensureLab();
const a = new LocalTransport();
const b = new SshTransport(lab.target, sshOpts(lab));
/** A tmux server of this test's own, started with this process's environment (the lab's SSH settings). */
const tmux = (...args: string[]) => run('tmux', ['-L', `migrate-progress-${process.pid}`, ...args], { env: process.env });

test.after.always(async () => {
  await tmux('kill-server').catch(() => {});
  await b.close();
});

test('a terminal shows the memory bar moving during a 512 MiB cold migration, then the report', async (t) => {
  const name = await startContainer(a, 512, 50);
  try {
    await tmux('new-session', '-d', '-s', 'm', '-x', '160', '-y', '40', `node ${CLI} ${name} --to ${lab.target} --strategy cold; sleep 600`);
    const seen: number[] = [];
    let screen = '';
    for (let i = 0; i < 600 && !/migrated \S+ → /.test(screen); i++) {
      screen = (await tmux('capture-pane', '-p', '-t', 'm')).stdout;
      const m = /migrate: memory \[[█░]+\] ([\d.]+) of ([\d.]+) MiB, \d+ MB\/s, ETA/.exec(screen);
      if (m && Number(m[1]) !== seen[seen.length - 1]) seen.push(Number(m[1]));
      await sleep(100);
    }
    t.regex(screen, /migrated \S+ → \S+: runs on the target/, screen);
    t.true(seen.length >= 3, `the bar was redrawn with ${seen.length} different values: ${seen.join(', ')}`);
    t.deepEqual([...seen].sort((x, y) => x - y), seen, 'it only moves forward');
    t.true(seen[seen.length - 1]! >= 400, `it ended near 512 MiB: ${seen[seen.length - 1]}`);
    t.is(await running(b, name), 'true');
  } finally {
    await removeEverywhere(name, a, b);
  }
});
