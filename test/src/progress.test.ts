/** pollGrowth: a total read now and then becomes progress; the last read after stop counts. */
import test from 'ava';
import { pollGrowth } from '../../src/progress.js';

test('what grew between reads is added; a failed or shrinking read adds nothing; stop(true) reads once more', async (t) => {
  const totals = [100, undefined, 50, 300];
  let final = 300;
  let i = 0;
  const added: number[] = [];
  const poll = pollGrowth(async () => {
    if (i < totals.length) {
      const v = totals[i++];
      if (v === undefined) throw new Error('cannot read');
      return v;
    }
    return final;
  }, (n) => added.push(n), 5);
  await new Promise((r) => setTimeout(r, 60));
  final = 420;
  t.is(await poll.stop(true), 420);
  t.deepEqual(added, [100, 200, 120]);
});
