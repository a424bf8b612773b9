/**
 * The baseline every migrate figure is compared with: Docker's documented checkpoint workflow,
 * done the way its documentation's reader would do it between two hosts.
 *
 *   `docker create` the twin on B (before the freeze), then `docker checkpoint create` on A →
 *   `tar | zstd -1 | ssh B 'zstd -d | tar -x'` (the OpenSSH binary, a new connection) into the
 *   twin's `checkpoints/cp` under B's data-root → `docker start --checkpoint cp` on B.
 *
 * runc.conf on both hosts is checked and held under migrate's lock for the whole move
 * (runc-conf-hold.ts), so no migrate override can speed it up. Freeze: just before the
 * checkpoint until `docker inspect` on B says running.
 */
import { posix } from 'node:path';
import type { Transport } from '../../src/index.js';
import { quoteArg } from '../../transports/quote.js';
import { removeRestoreCopies } from '../../src/docker/restore-copies.js';
import { out } from './commands.js';
import { fail } from './fail.js';
import { openSshArgs, type Lab } from './lab.js';
import { holdPlainRuncConf } from './runc-conf-hold.js';
import { stopwatch, timed } from './stats.js';

export const BASELINE = 'baseline: docker checkpoint + tar|zstd|ssh';
const CHECKPOINT = 'cp';

export interface BaselineHosts { lab: Lab; a: Transport; b: Transport; rootA: string; rootB: string }

/** The current time as epoch milliseconds with sub-millisecond precision (CLOCK_REALTIME, as memload's ticks). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** What one move did, by the controller's clock. */
export interface Move {
  freeze_ms: number;
  /**
   * When the controller's freeze started, as epoch ms: set against the workload's tick
   * timestamps, it shows where controller and workload disagree (before the freeze or after it).
   */
  freezeStartedAt?: number;
  /** Wall clock of the whole move, from the first step on B to the workload running there. */
  total_ms: number;
  phases_ms: Record<string, number>;
  /** raw: checkpoint bytes; wire: what crossed the link (after compression), when measured. */
  bytes: { raw: number; wire?: number };
}

export interface BaselineOptions {
  /**
   * Also count the bytes the pipe sent: after the move (outside every timing) the same
   * checkpoint goes through `tar | zstd -1 | wc -c` again — zstd at one level and thread is
   * deterministic, so that is the count, without a counter slowing the timed pipe.
   */
  wireBytes?: boolean;
}

export const dockerRoot = (t: Transport): Promise<string> => out(t, ['docker', 'info', '--format', '{{.DockerRootDir}}']);

async function requireRunning(t: Transport, id: string): Promise<void> {
  const running = await out(t, ['docker', 'inspect', '--format', '{{.State.Running}}', id]);
  if (running !== 'true') fail(`container ${id} is not running on ${t.name} after restore`);
}

/** `tar | zstd -1 | ssh B 'zstd -d | tar -x'` with the OpenSSH binary: directory `src` on A into `dst` on B (made if missing). */
export async function sendOverOpenSsh(h: Pick<BaselineHosts, 'lab' | 'a'>, src: string, dst: string): Promise<void> {
  const remote = `mkdir -p ${quoteArg(dst)} && zstd -d | tar -x -C ${quoteArg(dst)}`;
  await h.a.exec(['bash', '-o', 'pipefail', '-c', 'tar -C "$1" -c . | zstd -1 | ssh "${@:2}"', 'send', src, ...openSshArgs(h.lab), remote]);
}

/**
 * Moves the running container `name` from A to B; `createArgs` are its `docker run` arguments
 * (without `-d`), from which the twin on B is created.
 */
export async function dockerBaselineMove(h: BaselineHosts, name: string, createArgs: string[], o: BaselineOptions = {}): Promise<Move> {
  const lock = await holdPlainRuncConf([h.a, h.b]);
  try {
    const { ms: total, value: m } = await timed(async () => {
      const lap = stopwatch();
      const targetId = await out(h.b, ['docker', 'create', ...createArgs]);
      const sourceId = await out(h.a, ['docker', 'inspect', '--format', '{{.Id}}', name]);
      const src = posix.join(h.rootA, 'containers', sourceId, 'checkpoints', CHECKPOINT);
      const dst = posix.join(h.rootB, 'containers', targetId, 'checkpoints', CHECKPOINT);
      const create = lap();
      const frozenAt = nowMs();
      await h.a.exec(['docker', 'checkpoint', 'create', name, CHECKPOINT]);
      const checkpoint = lap();
      await sendOverOpenSsh(h, src, dst);
      const transfer = lap();
      await h.b.exec(['docker', 'start', '--checkpoint', CHECKPOINT, targetId]);
      await requireRunning(h.b, targetId);
      const restore = lap();
      return { src, dst, frozenAt, create, checkpoint, transfer, restore };
    });
    // containerd keeps the copy it restored from (the whole checkpoint, memory included) in its
    // temp dir; removed outside the timings. runc wrote descriptors.json once, at the checkpoint,
    // and the copy keeps its modification time (src/docker/restore-copies.ts).
    await removeRestoreCopies(h.b, Number(await out(h.b, ['stat', '-c', '%Y', posix.join(m.dst, 'descriptors.json')])));
    const raw = Number((await out(h.a, ['du', '-sb', m.src])).split(/\s/)[0]);
    const wire = o.wireBytes ? Number(await out(h.a, ['bash', '-o', 'pipefail', '-c', 'tar -C "$1" -c . | zstd -1 | wc -c', 'count', m.src])) : undefined;
    return {
      freeze_ms: m.checkpoint + m.transfer + m.restore,
      freezeStartedAt: m.frozenAt,
      total_ms: Math.round(total),
      phases_ms: { create: m.create, checkpoint: m.checkpoint, transfer: m.transfer, restore: m.restore },
      bytes: { raw, ...(wire === undefined ? {} : { wire }) },
    };
  } finally {
    await lock.release();
  }
}
