/** Deadline.cut: a step known to be stuck ends the freeze now, with its own error, as a passed deadline would. */
import test from 'ava';
import { MigrateError } from '../../../../transports/errors.js';
import { Deadline } from '../../../../src/migration/pipeline/deadline.js';

test('cut rejects the racing step with the given error, marks the deadline passed and aborts its signal', async (t) => {
  const d = new Deadline(60_000, 'h');
  d.start();
  const stuck = d.race('the checkpoint', new Promise<never>(() => {}));
  const why = new MigrateError('TRANSFER_FAILED', 'no handshake');
  d.cut(why);
  t.is(await t.throwsAsync(stuck), why);
  t.true(d.passed);
  t.true(d.signal.aborted);
  await t.throwsAsync(d.race('a later step', Promise.resolve(1)), { is: why }, 'a later step gets the same error');
  d.stop();
});

test('after the real deadline, a cut changes nothing: FREEZE_TIMEOUT names the step', async (t) => {
  const d = new Deadline(10, 'h');
  d.start();
  const alive = setTimeout(() => {}, 5000); // the deadline's own timer does not keep the process up
  const e = await t.throwsAsync(d.race('the restore', new Promise<never>(() => {})));
  clearTimeout(alive);
  t.is((e as MigrateError).code, 'FREEZE_TIMEOUT');
  t.regex(e!.message, /the restore did not finish/);
  d.cut(new MigrateError('TRANSFER_FAILED', 'late'));
  t.is(((await t.throwsAsync(d.race('x', Promise.resolve(1)))) as MigrateError).code, 'FREEZE_TIMEOUT');
});
