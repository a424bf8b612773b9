import test from 'ava';
import { parsePidStat, parseProcStat, parseProcStatCpus, roleOf, startCpuSampler, type ProcSource } from '../../../bench/lib/cpu-use.js';

const statLine = (pid: string, comm: string, utime: number, stime: number, start = 100) =>
  `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} 7 9 20 0 1 0 ${start} 1000 100`;

test('parsePidStat reads comm (spaces, parentheses) and own utime + stime, not the children\'s', (t) => {
  t.deepEqual(parsePidStat(statLine('42', 'a (b) c', 30, 12, 777)), { comm: 'a (b) c', ticks: 42, start: 777 });
  t.throws(() => parsePidStat('garbage'));
});

test('parseProcStat counts idle and iowait as idle, and the first eight columns as the total', (t) => {
  t.deepEqual(parseProcStat('cpu  100 5 50 800 20 1 4 0 30 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n'), { total: 980, idle: 820 });
  t.is(parseProcStatCpus('cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\ncpu1 1 2 3 4 5 6 7 8\nintr 5\n'), 2);
  t.throws(() => parseProcStat('intr 5\n'));
});

test('roleOf sorts the processes of a move', (t) => {
  t.is(roleOf('node', true), 'controller');
  t.is(roleOf('node', false), 'node');
  t.is(roleOf('criu', false), 'criu');
  t.is(roleOf('sshd', false), 'sshd');
  t.is(roleOf('memload', false), 'workload');
  t.is(roleOf('containerd-shim', false), 'docker');
  t.is(roleOf('kworker/0:1', false), 'other');
});

/** A /proc whose processes and counters the test moves by hand. */
function fakeProc() {
  const procs = new Map<string, [string, number, number?]>();
  let cpuLine = 'cpu 0 0 0 0 0 0 0 0\n';
  const src: ProcSource = {
    stat: () => cpuLine,
    pids: () => [...procs.keys()],
    pidStat: (pid) => { const p = procs.get(pid); return p ? statLine(pid, p[0], p[1], 0, p[2]) : undefined; },
    selfPid: '1',
    ticksPerSecond: 100,
    cpus: 2,
  };
  return { src, procs, setCpu: (busy: number, idle: number) => { cpuLine = `cpu ${busy} 0 0 ${idle} 0 0 0 0\n`; } };
}

test('the sampler counts each process from the start, keeps one that ended at its last sample, and counts a new one from zero', (t) => {
  const p = fakeProc();
  p.procs.set('1', ['node', 500]); // the controller
  p.procs.set('10', ['criu', 1000]); // the daemon, started before
  p.procs.set('11', ['sshd', 20]);
  p.setCpu(0, 0);
  const s = startCpuSampler(p.src, { timer: false });
  p.procs.set('10', ['criu', 1150]);
  p.procs.set('12', ['node', 30]); // the prefetcher, started in the stretch
  s.tick();
  p.procs.delete('10'); // the daemon ended after the sample
  p.procs.set('1', ['node', 600]);
  p.procs.set('11', ['sshd', 70]);
  p.procs.set('12', ['node', 80]);
  p.setCpu(300, 100);
  const use = s.stop();
  t.is(use.seconds.criu, 1.5);
  t.is(use.seconds.sshd, 0.5);
  t.is(use.seconds.node, 0.8);
  t.true(use.seconds.controller <= 1 && use.seconds.controller > 0.9);
  t.is(use.seconds.workload, 0);
  t.is(use.busyCpus, 1.5);
  t.is(use.cpus, 2);
  t.is(s.stop(), use);
});

test('a PID reused by another process counts from zero; a kernel worker whose comm changes still counts from the start', (t) => {
  const p = fakeProc();
  p.procs.set('20', ['bash', 900, 100]);
  p.procs.set('30', ['kworker/0:3-events', 5000, 50]);
  const s = startCpuSampler(p.src, { timer: false });
  p.procs.set('20', ['criu', 40, 300]);
  p.procs.set('30', ['kworker/0:3-mm_percpu_wq', 5010, 50]);
  const use = s.stop();
  t.is(use.seconds.criu, 0.4);
  t.is(use.seconds.other, 0.1);
  t.deepEqual(use.top, [['criu', 0.4], ['kworker/0:3-mm_percpu_wq', 0.1]]);
});
