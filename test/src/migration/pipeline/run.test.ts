/**
 * The pipeline's orchestration with two fake hosts on this machine and a fake workload
 * (test/helpers/fake-hosts.ts): every failure point, for both kinds of freeze, ends with the
 * workload running exactly once and the report saying where. Real commands move the images
 * (tar, zstd, sha256sum), so the transfer and its verification are the real ones.
 */
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { isMigrateError } from '../../../../transports/errors.js';
import { ignoreEvents, type MigrateEvent, type ProgressEvent } from '../../../../src/events.js';
import { DEFAULT_POLICY } from '../../../../src/migration/precopy-policy.js';
import { emptyReport, type MigrationReport } from '../../../../src/migration/report.js';
import type { Faults } from '../../../../src/migration/pipeline/context.js';
import { planFor } from '../../../../src/migration/pipeline/plan.js';
import { runPipeline } from '../../../../src/migration/pipeline/run.js';
import type { Strategy } from '../../../../src/migration/strategy.js';
import type { TcpPolicy } from '../../../../src/criu/tcp-policy.js';
import { FakeWorkload, fakeHosts, fakeServices, type FailAt } from '../../../helpers/fake-hosts.js';

interface Case { freezeTimeoutMs?: number; strategy?: Strategy; failAt?: FailAt; lazyFails?: boolean; restore?: 'eager' | 'lazy'; faults?: Faults; signal?: AbortSignal; tcp?: TcpPolicy }

async function run(c: Case) {
  const hosts = await fakeHosts();
  const workload = new FakeWorkload(hosts.target, c.failAt);
  const report = emptyReport('process-tree', 'fake', 'stream');
  report.tcp.policy = c.tcp ?? 'refuse';
  const events: MigrateEvent[] = [];
  try {
    const result = await runPipeline({
      source: hosts.source, target: hosts.target, workload, report, workRoot: hosts.workRoot, runPrefix: 'fake',
      plan: planFor(c.strategy ?? 'cold'), policy: DEFAULT_POLICY, pages: 'stream', restore: c.restore ?? 'eager', freezeTimeoutMs: c.freezeTimeoutMs ?? 60_000,
      emit: (e) => { events.push(e); ignoreEvents(e); }, services: fakeServices({ lazyFails: c.lazyFails }), faults: c.faults, signal: c.signal,
    }).then((r) => ({ report: r }), (error: unknown) => ({ error, report }));
    const left = (await execa('find', [hosts.workRoot, '-mindepth', '1', '-not', '-path', `${hosts.workRoot}/target-view`])).stdout;
    return { ...result, workload, events, left };
  } finally {
    await hosts.cleanup();
  }
}

/** Exactly once, where the report says; nothing left in either host's work directory. */
function assertRunsOnce(t: ExecutionContext, r: Awaited<ReturnType<typeof run>>, where: 'source' | 'target'): void {
  const report = r.report as MigrationReport;
  t.is(report.runs_on, where);
  t.deepEqual(r.workload.where, where === 'source' ? { source: 'running', target: 'none' } : { source: 'gone', target: 'running' });
  t.is(r.left, '', 'no checkpoint directory left on either host');
}

for (const strategy of ['cold', 'postcopy'] as const) {
  test(`${strategy}: the workload moves, the report says so`, async (t) => {
    const r = await run({ strategy, restore: strategy === 'cold' ? 'eager' : 'lazy' });
    t.falsy((r as { error?: unknown }).error);
    t.is(r.report.outcome, 'migrated');
    assertRunsOnce(t, r, 'target');
    t.true(r.report.freeze_ms! >= 0);
    t.true(r.report.bytes.raw > 0);
    if (strategy === 'postcopy') t.true(r.report.postcopy_ms! >= 0, 'the window is reported');
    t.deepEqual(r.events.filter((e) => e.kind === 'step').map((e) => (e as { step: string }).step).slice(0, 5), ['create', 'files', 'checkpoint', 'transfer', 'restore']);
    const progress = r.events.filter((e): e is ProgressEvent => e.kind === 'progress' && e.what === 'transfer');
    t.true(progress.length >= 1, 'the image transfer reports its progress');
    const last = progress[progress.length - 1]!;
    t.true(last.done === true && last.bytes > 0 && last.bytes >= (last.total ?? 0), `its last event says done, all bytes sent (${last.bytes} of ${last.total})`);
    t.true(progress.every((e, i) => i === 0 || e.bytes >= progress[i - 1]!.bytes), 'bytes only grow');
  });
}

for (const failAt of ['prepare', 'files'] as const) {
  test(`a failure before the freeze (${failAt}) throws, freezes nothing and leaves nothing on the target`, async (t) => {
    const r = await run({ failAt });
    t.true(isMigrateError((r as { error?: unknown }).error), String((r as { error?: unknown }).error));
    t.deepEqual(r.workload.where, { source: 'running', target: 'none' });
    t.false(r.events.some((e) => e.kind === 'step' && e.step === 'checkpoint'));
    t.is(r.left, '');
  });
}

for (const strategy of ['cold', 'postcopy'] as const) {
  for (const failAt of ['dump', 'dump-after-stop'] as const) {
    test(`${strategy}: a dump that fails (${failAt === 'dump' ? 'CRIU resumed it' : 'left stopped'}) rolls back: it runs on the source`, async (t) => {
      const r = await run({ strategy, failAt });
      t.is(r.report.outcome, 'rolled-back');
      t.regex(String(r.report.error?.message), /injected failure: dump/);
      assertRunsOnce(t, r, 'source');
      t.false(r.workload.calls.includes('restore'));
    });
  }

  test(`${strategy}: a transfer that does not verify rolls back`, async (t) => {
    const r = await run({ strategy, faults: { tamper: (chunk, offset) => (offset === 0 ? Buffer.concat([chunk.subarray(0, 20), Buffer.from('!'), chunk.subarray(21)]) : chunk) } });
    t.is(r.report.outcome, 'rolled-back');
    t.is(r.report.error?.code, 'TRANSFER_FAILED');
    assertRunsOnce(t, r, 'source');
  });

  test(`${strategy}: a restore that fails on the target rolls back, the target copy removed first`, async (t) => {
    const r = await run({ strategy, failAt: 'restore' });
    t.is(r.report.outcome, 'rolled-back');
    assertRunsOnce(t, r, 'source');
    const calls = r.workload.calls;
    t.true(calls.lastIndexOf('removeFromTarget') < calls.lastIndexOf('resumeOnSource'), calls.join(' '));
    t.is(calls[calls.lastIndexOf('resumeOnSource') - 1], 'unlockSourceNetwork', `the network lock is lifted right before the resume: ${calls.join(' ')}`);
  });

  test(`${strategy}: the memory window fails after it resumed on the target: back on the source`, async (t) => {
    const r = await run({ strategy, restore: 'lazy', lazyFails: true });
    t.is(r.report.outcome, 'rolled-back');
    t.regex(String(r.report.error?.message), /lazy-pages/);
    t.true(r.report.phases_ms.restore >= 0 && r.workload.calls.includes('restore'), 'it had been restored');
    assertRunsOnce(t, r, 'source');
  });

  test(`${strategy}: resuming on the source fails too: runs_on none, with how to finish by hand`, async (t) => {
    const r = await run({ strategy, failAt: 'resume', faults: { beforeRestore: async () => { throw new Error('target broke'); } } });
    const e = (r as { error?: unknown }).error;
    t.true(isMigrateError(e, 'RESTORE_FAILED'), String(e));
    t.is(r.report.runs_on, 'none');
    t.regex((e as Error).message, /kill -CONT it/);
  });

  test(`${strategy}: an abort (Ctrl-C) after the freeze rolls back`, async (t) => {
    const abort = new AbortController();
    const r = await run({ strategy, signal: abort.signal, faults: { afterFreeze: async () => abort.abort() } });
    t.is(r.report.outcome, 'rolled-back');
    t.is(r.report.error?.code, 'INTERRUPTED');
    assertRunsOnce(t, r, 'source');
  });
}

for (const [failAt, where] of [['hang', 'the checkpoint'], ['hang-restore', 'the restore']] as const) {
  test(`a step that hangs (${where}) is rolled back once the freeze's deadline passes`, async (t) => {
    const started = Date.now();
    const r = await run({ failAt, freezeTimeoutMs: 1500 });
    t.is(r.report.outcome, 'rolled-back');
    t.is(r.report.error?.code, 'FREEZE_TIMEOUT');
    t.regex(String(r.report.error?.message), new RegExp(`${where} of fake workload did not finish within the freeze's deadline \\(1500 ms`));
    t.true(Date.now() - started < 15_000);
    assertRunsOnce(t, r, 'source');
  });
}

test('post-copy with --tcp close: the source copy\'s connections are reset once the target\'s copy runs; a failed reset is a warning, not a failed move', async (t) => {
  const refused = await run({ strategy: 'postcopy', restore: 'lazy' });
  t.false(refused.workload.calls.some((c) => c.startsWith('resetSourceConnections')), 'not under another policy');
  const ok = await run({ strategy: 'postcopy', restore: 'lazy', tcp: 'close' });
  t.is(ok.report.outcome, 'migrated');
  t.deepEqual(ok.workload.calls.filter((c) => c.startsWith('resetSourceConnections')), ['resetSourceConnections (target running)']);
  t.false(ok.events.some((e) => e.kind === 'warning'));
  const failed = await run({ strategy: 'postcopy', restore: 'lazy', failAt: 'reset-connections', tcp: 'close' });
  t.is(failed.report.outcome, 'migrated');
  assertRunsOnce(t, failed, 'target');
  const warning = failed.events.find((e) => e.kind === 'warning') as { message: string } | undefined;
  t.regex(warning?.message ?? '', /injected failure: reset-connections.*: its clients wait out their own timeout/);
});

test('the target becomes unreachable during the restore: the source copy stays stopped, runs_on unknown, the error says how to finish', async (t) => {
  const r = await run({ failAt: 'restore-unreachable' });
  const e = (r as { error?: unknown }).error;
  t.true(isMigrateError(e, 'RESTORE_FAILED'), String(e));
  t.is(r.report.runs_on, 'unknown');
  t.is((e as { runsOn?: string }).runsOn, 'unknown');
  t.deepEqual(r.workload.where, { source: 'stopped', target: 'running' }, 'never two running copies');
  t.false(r.workload.calls.includes('resumeOnSource'));
  t.regex((e as Error).message, /cannot confirm fake workload is gone from it: it stays stopped on the source/);
  t.regex((e as Error).message, /if it runs there, keep it .* if it does not, resume it on the source \(kill -CONT it\)/);
});
