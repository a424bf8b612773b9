/**
 * `--transfer-image`: the container's image goes to the target before anything is frozen, as
 * `docker save` on the source → zstd → `zstd -d | docker load` on the target, streamed (no
 * temporary archive). Docker checks the layers' digests while it loads them.
 */
import { pipeline } from 'node:stream/promises';
import { CompressStream } from 'zstd-napi';
import type { Transport } from '../../transports/transport.js';
import { MigrateError, throwIfAborted } from '../../transports/errors.js';
import { hostScript } from '../host-scripts/index.js';
import { counter } from '../transfer/send-dir.js';

export async function sendImage(source: Transport, target: Transport, image: string, signal?: AbortSignal): Promise<{ wireBytes: number }> {
  let wireBytes = 0;
  const save = source.spawn(['docker', 'save', image]);
  save.stdin.end();
  const load = target.spawn(hostScript('load-image'));
  load.stdout.resume();
  try {
    await Promise.all([
      pipeline(save.stdout, new CompressStream({ compressionLevel: 3 }), counter((n) => (wireBytes += n)), load.stdin, ...(signal ? [{ signal }] : [])),
      save.done,
      load.done,
    ]);
  } catch (e) {
    save.kill();
    load.kill();
    throwIfAborted(signal);
    throw new MigrateError('TRANSFER_FAILED', `sending image ${image} to the target failed`, {
      host: target.name,
      stderr: e instanceof Error ? e.message : String(e),
      hint: `load it there by hand (docker save ${image} | ssh TARGET docker load) and retry without --transfer-image`,
      cause: e,
    });
  }
  return { wireBytes };
}
