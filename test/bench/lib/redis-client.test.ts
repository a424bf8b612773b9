import test from 'ava';
import { lostAcknowledged } from '../../../bench/lib/redis-client.js';

test('nothing lost: every reply higher than the one before, the counter ends at or above the last', (t) => {
  t.is(lostAcknowledged([1, 2, 3, 5, 6], 6), 0);
  t.is(lostAcknowledged([1, 2, 3], 9), 0, 'unacknowledged INCRs that did happen are not losses');
});

test('the counter went back: the acknowledged values from there to the highest are lost, though later INCRs count past them', (t) => {
  // 10..12 acknowledged on A; B restarted from a save at 9, so 10 came again.
  t.is(lostAcknowledged([8, 9, 10, 11, 12, 10, 11, 12, 13, 14], 14), 3);
});

test('acknowledged values above the final counter are lost too', (t) => {
  t.is(lostAcknowledged([1, 2, 3, 4], 2), 2);
});
