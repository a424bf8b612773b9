/**
 * Ships a checkpoint's image files from the source host to the target host, whichever of them
 * the controller runs on: a local source streams through tar-stream and zstd-napi in this
 * process (send-dir.ts); a remote source runs `tar | zstd` there and the controller relays the
 * stream to the target. Either way both ends hash the tar stream as it flows and the controller
 * compares the digests (stream-digest.ts) before anything is restored.
 */
import { pipeline } from 'node:stream/promises';
import type { Transport } from '../../transports/transport.js';
import { MigrateError, throwIfAborted } from '../../transports/errors.js';
import { safeRelativeName } from './safe-name.js';
import { transferFailed } from './failure.js';
import { hostScript } from '../host-scripts/index.js';
import { PAGE_SIZE } from '../criu/stats.js';
import { counter, sendDirectory, startReceiver, type SendOptions, type SendResult } from './send-dir.js';
import { checkDigests, digestOf } from './stream-digest.js';

export { startReceiver } from './send-dir.js';
export type { SendOptions, SendResult } from './send-dir.js';

/** Memory images: what a page server receives (pagemap-*.img, pagemap-shmem-*.img, pages-*.img). */
export const isPageImage = (name: string): boolean => /^(pagemap|pages)-[\w.-]+\.img$/.test(name);

/** Sends srcDir on the source into dstDir on the target; a receiver given in `o` is this transfer's, and ends with it. */
export async function sendImages(source: Transport, srcDir: string, target: Transport, dstDir: string, o: SendOptions = {}): Promise<SendResult> {
  try {
    return await (source.isLocal ? sendDirectory(srcDir, target, dstDir, o) : relayDirectory(source, srcDir, target, dstDir, o));
  } catch (e) {
    o.receiver?.kill(); // (never after it exited)
    throw e;
  }
}

/** Regular files under a remote directory (names relative to it) and their total size; anything else is refused. */
async function remoteFiles(source: Transport, dir: string, exclude?: (name: string) => boolean): Promise<{ names: string[]; rawBytes: number }> {
  // A pre-dump chain's `parent` link is left out: the target makes its own.
  const odd = await source.exec(['find', dir, '-mindepth', '1', '!', '-type', 'f', '!', '-type', 'd', '!', '(', '-path', `${dir}/parent`, '-type', 'l', ')']);
  if (odd.stdout.trim()) {
    throw new MigrateError('BAD_INPUT', `refusing to send ${dir}: it holds entries that are not regular files`, { host: source.name, stderr: odd.stdout });
  }
  const listing = await source.exec(hostScript('list-file-sizes', dir));
  const names: string[] = [];
  let rawBytes = 0;
  for (const line of listing.stdout.split('\n').filter(Boolean)) {
    const [size, name] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (!safeRelativeName(name)) throw new MigrateError('BAD_INPUT', `refusing to send ${dir}/${name}: unsafe name`, { host: source.name });
    if (exclude?.(name)) continue;
    names.push(name);
    rawBytes += Number(size);
  }
  return { names: names.sort(), rawBytes };
}

async function relayDirectory(source: Transport, srcDir: string, target: Transport, dstDir: string, o: SendOptions): Promise<SendResult> {
  const { names, rawBytes } = await remoteFiles(source, srcDir, o.exclude);
  o.onProgress?.total(undefined);
  let wireBytes = 0;
  const sender = source.spawn(hostScript('send-files', srcDir, String(o.level ?? 1), ...names));
  sender.stdin.end();
  const receiver = o.receiver ?? startReceiver(target, dstDir);
  let sent: { stderr: string };
  let received: { stderr: string };
  try {
    [, sent, received] = await Promise.all([
      pipeline(sender.stdout, counter((n) => {
        wireBytes += n;
        o.onProgress?.add(n);
      }, o.tamper), receiver.stdin, ...(o.signal ? [{ signal: o.signal }] : [])),
      sender.done,
      receiver.done,
    ]);
  } catch (e) {
    const failed = await transferFailed(e, [sender.done, receiver.done], {
      what: `relaying the checkpoint images from ${source.name} failed`, host: target.name, hint: 'check both links and free space under the target directory', signal: o.signal,
    });
    sender.kill();
    receiver.kill();
    throwIfAborted(o.signal);
    throw failed;
  }
  const digest = digestOf(sent.stderr);
  checkDigests(target.name, 'checkpoint images', digest, digestOf(received.stderr));
  return { files: names.length, rawBytes, wireBytes, digest: digest! };
}

/**
 * The memory images a page server wrote on the target must hold every page the dump says it
 * sent. Their bytes crossed the link inside SSH, whose MAC rejects any altered packet; this
 * catches truncation and a full disk without re-reading gigabytes while frozen.
 */
export async function verifyPageImages(target: Transport, dir: string, pagesWritten: number | undefined): Promise<void> {
  const r = await target.exec(hostScript('count-page-images', dir));
  const [bytes, pagemaps] = r.stdout.trim().split('\n').map(Number);
  if (!pagemaps) throw new MigrateError('TRANSFER_FAILED', 'the page server wrote no memory images', { host: target.name, hint: 'see page-server.log in the work directory there' });
  if (pagesWritten !== undefined && bytes !== pagesWritten * PAGE_SIZE) {
    throw new MigrateError('TRANSFER_FAILED', `memory images on the target hold ${bytes} bytes, the dump sent ${pagesWritten} pages`, {
      host: target.name,
      hint: 'check free space under the target directory and retry',
    });
  }
}
