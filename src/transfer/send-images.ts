/**
 * Ships a checkpoint's image files from the source host to the target host, whichever of them
 * the controller runs on: a local source streams through tar-stream and zstd-napi in this
 * process (send-dir.ts); a remote source runs `tar | zstd` there and the controller relays the
 * stream to the target. Either way the target verifies every file against a SHA-256 manifest.
 */
import { pipeline } from 'node:stream/promises';
import type { Transport } from '../../transports/transport.js';
import { MigrateError, isMigrateError, throwIfAborted } from '../errors.js';
import { safeRelativeName, type Manifest } from './manifest.js';
import { RECEIVE_SCRIPT, counter, sendDirectory, verifyRemote, type SendOptions, type SendResult } from './send-dir.js';

export type { SendOptions, SendResult } from './send-dir.js';

/** Memory images: what a page server receives (pagemap-*.img, pagemap-shmem-*.img, pages-*.img). */
export const isPageImage = (name: string): boolean => /^(pagemap|pages)-[\w.-]+\.img$/.test(name);

export async function sendImages(source: Transport, srcDir: string, target: Transport, dstDir: string, o: SendOptions = {}): Promise<SendResult> {
  if (source.isLocal) return sendDirectory(srcDir, target, dstDir, o);
  return relayDirectory(source, srcDir, target, dstDir, o);
}

/** Regular files under a remote directory with their SHA-256; anything else is refused. */
async function remoteManifest(source: Transport, dir: string, exclude?: (name: string) => boolean): Promise<{ manifest: Manifest; rawBytes: number }> {
  // A pre-dump chain's `parent` link is left out: the target makes its own.
  const odd = await source.exec(['find', dir, '-mindepth', '1', '!', '-type', 'f', '!', '-type', 'd', '!', '(', '-path', `${dir}/parent`, '-type', 'l', ')']);
  if (odd.stdout.trim()) {
    throw new MigrateError('BAD_INPUT', `refusing to send ${dir}: it holds entries that are not regular files`, { host: source.name, stderr: odd.stdout });
  }
  const listing = await source.exec(['sh', '-c', 'cd "$1" && find . -type f -printf "%s %P\\n"', 'list', dir]);
  const files: string[] = [];
  let rawBytes = 0;
  for (const line of listing.stdout.split('\n').filter(Boolean)) {
    const [size, name] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (!safeRelativeName(name)) throw new MigrateError('BAD_INPUT', `refusing to send ${dir}/${name}: unsafe name`, { host: source.name });
    if (exclude?.(name)) continue;
    files.push(name);
    rawBytes += Number(size);
  }
  const manifest: Manifest = new Map();
  if (files.length > 0) {
    const sums = await source.exec(['sh', '-c', 'cd "$1" && shift && sha256sum -- "$@"', 'sums', dir, ...files]);
    for (const line of sums.stdout.split('\n').filter(Boolean)) manifest.set(line.slice(66), line.slice(0, 64));
  }
  return { manifest, rawBytes };
}

async function relayDirectory(source: Transport, srcDir: string, target: Transport, dstDir: string, o: SendOptions): Promise<SendResult> {
  const { manifest, rawBytes } = await remoteManifest(source, srcDir, o.exclude);
  let wireBytes = 0;
  const names = [...manifest.keys()];
  const sender = source.spawn(['sh', '-c', 'set -e; cd "$1"; shift; level=$1; shift; tar -c -f - -- "$@" | zstd -q -c "-$level"',
    'send', srcDir, String(o.level ?? 1), ...names]);
  sender.stdin.end();
  const receiver = target.spawn(['sh', '-c', RECEIVE_SCRIPT, 'receive', dstDir]);
  receiver.stdout.resume();
  try {
    await Promise.all([
      pipeline(sender.stdout, counter((n) => (wireBytes += n), o.tamper), receiver.stdin, ...(o.signal ? [{ signal: o.signal }] : [])),
      sender.done,
      receiver.done,
    ]);
  } catch (e) {
    sender.kill();
    receiver.kill();
    throwIfAborted(o.signal);
    throw new MigrateError('TRANSFER_FAILED', `relaying the checkpoint images from ${source.name} failed`, {
      host: target.name,
      stderr: isMigrateError(e) ? e.message : String(e),
      hint: 'check both links and free space under the target directory',
      cause: e,
    });
  }
  await verifyRemote(target, dstDir, manifest);
  return { files: names.length, rawBytes, wireBytes, manifest };
}

/**
 * The memory images a page server wrote on the target must hold every page the dump says it
 * sent. Their bytes crossed the link inside SSH, whose MAC rejects any altered packet; this
 * catches truncation and a full disk without re-reading gigabytes while frozen.
 */
export async function verifyPageImages(target: Transport, dir: string, pagesWritten: number | undefined): Promise<void> {
  const r = await target.exec(['sh', '-c',
    'cd "$1" && { stat -c %s pages-*.img 2>/dev/null | awk \'{s+=$1} END {print s+0}\'; ls pagemap-*.img 2>/dev/null | wc -l; }', 'pages', dir]);
  const [bytes, pagemaps] = r.stdout.trim().split('\n').map(Number);
  if (!pagemaps) throw new MigrateError('TRANSFER_FAILED', 'the page server wrote no memory images', { host: target.name, hint: 'see page-server.log in the work directory there' });
  if (pagesWritten !== undefined && bytes !== pagesWritten * PAGE_SIZE) {
    throw new MigrateError('TRANSFER_FAILED', `memory images on the target hold ${bytes} bytes, the dump sent ${pagesWritten} pages`, {
      host: target.name,
      hint: 'check free space under the target directory and retry',
    });
  }
}

const PAGE_SIZE = 4096;
