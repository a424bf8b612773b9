/**
 * Pre-copy (`--strategy precopy`): the memory moves while the workload runs, and the freeze only
 * carries what it dirtied since.
 *   round 0: `criu pre-dump --track-mem` writes all memory into `<run>/pre-0` on the source (the
 *   workload is frozen only while CRIU collects the pages, then runs on), and the images stream
 *   to `<run>/pre-0` on the target; round i pre-dumps into `pre-i` with `--prev-images-dir
 *   ../pre-(i-1)`: only pages the kernel's soft-dirty bits say changed. The stop policy
 *   (precopy-policy.ts) decides after each round. Then the cold migration runs as usual with the
 *   final dump building on the last round (`parent` link, on both hosts), and the restore reads
 *   the whole chain on the target.
 *
 * Needs soft-dirty tracking in the source's kernel (CONFIG_MEM_SOFT_DIRTY; `criu check --feature
 * mem_dirty_track`): refused before anything runs where it is missing.
 */
import type { Transport } from '../../transports/transport.js';
import { readDumpStats } from '../criu/run.js';
import { hasFeature } from '../criu/features.js';
import { MigrateError, throwIfAborted } from '../../transports/errors.js';
import { sendImages } from '../transfer/send-images.js';
import type { MoveContext } from './pipeline/context.js';
import { hostScript } from '../host-scripts/index.js';
import { decide, type RoundStats } from './precopy-policy.js';
import type { PrecopyReport } from './report.js';
import type { Dirs } from './workload.js';

/** Before anything runs: the source's kernel tracks dirty pages. */
export async function requirePrecopy(source: Transport, target: Transport): Promise<void> {
  if (await hasFeature(source, 'mem_dirty_track')) return;
  const postcopy = await hasFeature(target, 'uffd-noncoop');
  throw new MigrateError('PREFLIGHT', "pre-copy needs soft-dirty page tracking, which this host's kernel lacks (CONFIG_MEM_SOFT_DIRTY; criu check --feature mem_dirty_track fails)", {
    host: source.name,
    hint: `use --strategy cold${postcopy ? ' or --strategy postcopy (both work between these hosts)' : ' (it works between these hosts)'}, or a kernel built with CONFIG_MEM_SOFT_DIRTY=y`,
  });
}

/**
 * Pre-copy's rounds, once the target is prepared in `dirs` (the same path on both hosts): fills
 * report.precopy and returns the last round's directory relative to the images directory, which
 * the final dump builds on.
 */
export async function preCopyRounds(c: MoveContext, dirs: Dirs): Promise<string> {
  const { source, target, workload, report, policy } = c;
  const pre: PrecopyReport = {
    rounds: [],
    stop: { reason: '', why: '', predicted_freeze_ms: null },
    policy: { downtime_target_ms: policy.downtimeTargetMs, few_pages: policy.fewPages, min_shrink: policy.minShrink, max_rounds: policy.maxRounds },
  };
  report.precopy = pre;
  const rounds: RoundStats[] = [];
  for (let i = 0; ; i++) {
    throwIfAborted(c.signal);
    const name = `pre-${i}`;
    const dir = `${dirs.root}/${name}`;
    const parent = i > 0 ? `../pre-${i - 1}` : undefined;
    c.emit({ kind: 'step', step: 'precopy', host: source.name, detail: `round ${i}${parent ? ': pages dirtied since round ' + (i - 1) : ': all memory'}` });
    const started = Date.now();
    // CRIU makes the source's `parent` link itself; the target's is made here.
    await Promise.all([
      source.exec(['mkdir', '-p', '-m', '0700', dir]),
      target.exec(hostScript('make-round-dir', dir, parent ?? '')),
    ]);
    await workload.preDump(dir, parent);
    const stats = await readDumpStats(source, dir);
    const sent = await sendImages(source, dir, target, dir, { level: c.zstdLevel, signal: c.signal });
    const ms = Date.now() - started;
    const written = stats.pagesWritten;
    const skipped = stats.pagesSkippedParent;
    rounds.push({ pagesWritten: written, pagesSkipped: skipped, bytes: sent.rawBytes, ms, frozenMs: stats.frozenTimeUs / 1000 });
    pre.rounds.push({
      round: i, pages_written: written, pages_skipped: skipped,
      skipped_share: stats.pagesScanned > 0 ? Number((skipped / stats.pagesScanned).toFixed(3)) : 0,
      bytes: sent.rawBytes, wire_bytes: sent.wireBytes, ms, frozen_ms: Math.round(stats.frozenTimeUs / 1000),
    });
    report.bytes.raw += sent.rawBytes;
    report.bytes.wire += sent.wireBytes;
    const d = decide(rounds, policy);
    if (d.stop) {
      pre.stop = { reason: d.reason!, why: d.why, predicted_freeze_ms: d.predictedFreezeMs };
      return `../${name}`;
    }
  }
}
