import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { FreezeClock } from '../../../../src/migration/pipeline/freeze-clock.js';

test('without CRIU\'s start the freeze counts from the command', async (t) => {
  const c = new FreezeClock();
  c.enter();
  c.stopping();
  await sleep(30);
  c.resumed();
  t.true(c.frozenMs() >= 29, `${c.frozenMs()} ms`);
  t.is(c.notFrozenMs, 0);
});

test('CRIU\'s start, when it lies between the command and the resume, is where the freeze starts', async (t) => {
  const c = new FreezeClock();
  c.enter();
  c.stopping();
  const issued = Date.now();
  await sleep(40);
  c.resumed();
  const whole = c.frozenMs();
  t.true(c.criuFroze(issued + 15));
  t.true(Math.abs(c.frozenMs() - (whole - 15)) <= 2, `${c.frozenMs()} of ${whole} ms`);
  t.true(Math.abs(c.notFrozenMs - 15) <= 2);
});

test('a start before the command or after the resume is refused (a wrong clock offset)', async (t) => {
  const c = new FreezeClock();
  c.enter();
  c.stopping();
  const issued = Date.now();
  await sleep(20);
  c.resumed();
  const whole = c.frozenMs();
  t.false(c.criuFroze(issued - 100));
  t.false(c.criuFroze(Date.now() + 1000));
  t.false(c.criuFroze(Number.NaN));
  t.is(c.frozenMs(), whole);
});
