/**
 * The stop policy on recorded round statistics. The rounds below are shaped like real ones:
 * 64 MiB resident = 16384 pages; throughput ~100 MB/s (100 000 bytes/ms) plus ~40 ms fixed cost.
 */
import test from 'ava';
import { DEFAULT_POLICY, converged, decide, type Decision, fixedCostMs, predictFreezeMs, throughput, type RoundStats } from '../../../src/migration/precopy-policy.js';

const round = (pagesWritten: number, pagesSkipped = 0): RoundStats => {
  const bytes = pagesWritten * 4096;
  return { pagesWritten, pagesSkipped, bytes, ms: Math.round(bytes / 100_000) + 40, frozenMs: 5 };
};

/** Runs the policy round by round over recorded rounds; returns where and why it stopped. */
function replay(rounds: RoundStats[], policy = DEFAULT_POLICY): Decision & { after: number } {
  let d = decide([], policy);
  for (let i = 1; i <= rounds.length; i++) {
    d = decide(rounds.slice(0, i), policy);
    if (d.stop) return { after: i, ...d };
  }
  return { after: rounds.length, ...d };
}

test('throughput and fixed cost come from the rounds themselves', (t) => {
  const rounds = [round(16384), round(2000)];
  const bps = throughput(rounds)!;
  t.true(Math.abs(bps - 100_000) < 1000, String(bps));
  t.true(Math.abs(fixedCostMs(rounds) - 40) < 2, String(fixedCostMs(rounds)));
  t.is(predictFreezeMs([]), null);
  t.is(fixedCostMs([round(16384)]), 0, 'one round: all of it counts as transfer');
});

test('converging: a workload that dirties little stops as soon as the predicted freeze fits the target', (t) => {
  const r = replay([round(16384), round(8000), round(900), round(200), round(50)]);
  t.is(r.reason, 'downtime');
  t.is(r.after, 3, 'round 1 (8000 pages) predicts ~410 ms, round 2 (~900 pages) ~120 ms');
  t.true(r.predictedFreezeMs! <= 300);
});

test('converging to almost nothing with a tight target: few pages', (t) => {
  const r = replay([round(16384), round(3000), round(400), round(40)], { ...DEFAULT_POLICY, downtimeTargetMs: 10 });
  t.is(r.reason, 'few-pages');
  t.is(r.after, 4);
});

test('non-converging: a workload that dirties as fast as rounds copy stops when rounds stop shrinking', (t) => {
  const r = replay([round(16384), round(14000), round(13900), round(14100)], { ...DEFAULT_POLICY, downtimeTargetMs: 100 });
  t.is(r.reason, 'not-shrinking');
  t.is(r.after, 3, 'round 2 shrank by less than 10 %');
});

test('oscillating: rounds that grow again stop at the first growth, not at the cap', (t) => {
  const r = replay([round(16384), round(6000), round(9000), round(5000), round(9500)], { ...DEFAULT_POLICY, downtimeTargetMs: 50 });
  t.is(r.reason, 'not-shrinking');
  t.is(r.after, 3);
});

test('slowly converging: the round cap ends it', (t) => {
  const pages = [16384, 12000, 9000, 7000, 5500, 4400, 3500, 2800, 2200, 1700];
  const r = replay(pages.map((p) => round(p)), { ...DEFAULT_POLICY, downtimeTargetMs: 1 });
  t.is(r.reason, 'round-cap');
  t.is(r.after, DEFAULT_POLICY.maxRounds);
});

test('a single round never stops for not shrinking, and every decision says why', (t) => {
  const d = decide([round(16384)], { ...DEFAULT_POLICY, downtimeTargetMs: 1 });
  t.false(d.stop);
  t.regex(d.why, /round 0 wrote 16384 pages/);
});

test('converged or not, for auto\'s finish: rounds that stop shrinking did not; a cap reached above the target did not either', (t) => {
  const check = (pages: number[], policy = DEFAULT_POLICY) => {
    const r = replay(pages.map((p) => round(p)), policy);
    return converged(r.reason!, r.predictedFreezeMs, policy);
  };
  t.true(check([16384, 8000, 900]), 'downtime');
  t.true(check([16384, 3000, 400, 40], { ...DEFAULT_POLICY, downtimeTargetMs: 10 }), 'few pages');
  t.false(check([16384, 14000, 13900], { ...DEFAULT_POLICY, downtimeTargetMs: 100 }), 'not shrinking');
  t.false(check([16384, 12000, 9000, 7000, 5500, 4400, 3500, 2800], { ...DEFAULT_POLICY, downtimeTargetMs: 1 }), 'cap, predicted freeze above the target');
  t.true(converged('round-cap', 250, DEFAULT_POLICY), 'cap with a predicted freeze within the target');
  t.false(converged('round-cap', null, DEFAULT_POLICY));
});
