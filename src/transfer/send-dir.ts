/**
 * Streams a local directory of CRIU images to another host: tar (tar-stream) → zstd
 * (zstd-napi) → the transport → `zstd -d | tar -x` on the target. Nothing is written to a
 * temporary archive on either side. Both ends hash the tar stream as it flows (stream-digest.ts);
 * the images count as arrived only when the digests agree.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { CompressStream } from 'zstd-napi';
import type { RunningCommand, Transport } from '../../transports/transport.js';
import { MigrateError, throwIfAborted } from '../../transports/errors.js';
import { transferFailed } from './failure.js';
import { safeRelativeName } from './safe-name.js';
import { hostScript } from '../host-scripts/index.js';
import { checkDigests, digestOf, hashing, streamHash } from './stream-digest.js';

export interface SendOptions {
  /** zstd level (1 = fastest; memory images are mostly incompressible). */
  level?: number;
  /** Test hook: alter the compressed stream (used to prove corruption is caught). */
  tamper?: (chunk: Buffer, offset: number) => Buffer;
  /** Cancels the transfer (Ctrl-C). */
  signal?: AbortSignal;
  /** Leave out files whose relative name matches (e.g. pages already sent to a page server). */
  exclude?: (name: string) => boolean;
  /**
   * Bytes as they go: uncompressed from a local source (out of `total`, the files' size), on the
   * wire from a relayed one (total unknown). `total` comes once, before the first bytes.
   */
  onProgress?: { total(bytes: number | undefined): void; add(n: number): void };
  /**
   * `receive-tar.sh DIR files` already started on the target for this directory
   * (startReceiver), so that its start-up is not paid while the workload is frozen.
   */
  receiver?: RunningCommand;
}

/** Starts the target's end of a transfer into `dir` ahead of time (SendOptions.receiver); it waits for the stream on its stdin. */
export function startReceiver(target: Transport, dir: string): RunningCommand {
  const receiver = target.spawn(hostScript('receive-tar', dir, 'files'));
  receiver.stdout.resume();
  receiver.done.catch(() => {}); // a receiver never used is killed; a used one's failure is the transfer's
  return receiver;
}

export interface SendResult {
  files: number;
  rawBytes: number;
  wireBytes: number;
  /** The tar stream's digest, the same at both ends. */
  digest: string;
}

/** Read size: ssh2 costs per write, so big chunks are much faster (measured 44 → ~150 MB/s). */
const CHUNK = 1 << 20;

/**
 * Files up to this size (all of a dump's but its memory) are read whole, a few ahead of the
 * packer, instead of streamed: a read stream per file costs ~1 ms of opens and reads taking
 * turns through libuv, and a dump has dozens of them (21 files of 100 KiB: 40 → 20 ms).
 */
const SMALL_FILE = 1 << 20;
const READ_AHEAD = 16;
/** Below this many bytes in all, zstd compresses on the main thread: a worker's start costs more than it saves. */
const ZSTD_WORKER_FROM = 16 << 20;

/** CRIU's link from a dump to the pre-dump it builds on (`--prev-images-dir`). */
export const PARENT_LINK = 'parent';

/**
 * zstd's own worker threads: with one, compression runs beside this process's main thread (tar,
 * hashing, ssh2's cipher) instead of taking turns with it. Measured on 256 MiB of memory pages:
 * 650 MB/s on the main thread, 1560 MB/s of the main thread's time with a worker.
 */
const ZSTD_WORKERS = 1;

/** Regular files below dir, as safe relative names; anything else is refused. */
async function listFiles(dir: string, prefix = ''): Promise<Array<{ name: string; path: string; size: number }>> {
  const out: Array<{ name: string; path: string; size: number }> = [];
  for (const entry of (await readdir(join(dir, prefix))).sort()) {
    const name = prefix ? `${prefix}/${entry}` : entry;
    const path = join(dir, name);
    const st = await lstat(path);
    if (name === PARENT_LINK && st.isSymbolicLink()) continue; // a pre-dump chain's link: the target makes its own
    if (st.isDirectory()) out.push(...(await listFiles(dir, name)));
    else if (st.isFile() && safeRelativeName(name)) out.push({ name, path, size: st.size });
    else throw new MigrateError('BAD_INPUT', `refusing to send ${path}: not a regular file with a safe name`, { host: 'local' });
  }
  return out;
}

export function counter(onBytes: (n: number) => void, tamper?: SendOptions['tamper']): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out = tamper ? tamper(chunk, offset) : chunk;
      offset += chunk.length;
      onBytes(out.length);
      cb(null, out);
    },
  });
}

export async function sendDirectory(localDir: string, target: Transport, remoteDir: string, options: SendOptions = {}): Promise<SendResult> {
  const files = (await listFiles(localDir)).filter((f) => !options.exclude?.(f.name));
  const rawBytes = files.reduce((sum, f) => sum + f.size, 0);
  options.onProgress?.total(rawBytes);
  let wireBytes = 0;
  const hash = streamHash();

  const pack = tar.pack();
  const reads = new Map<number, Promise<Buffer>>();
  const readAhead = (from: number) => {
    for (let j = from; j < Math.min(files.length, from + READ_AHEAD); j++) {
      if (files[j]!.size > SMALL_FILE || reads.has(j)) continue;
      const read = readFile(files[j]!.path);
      read.catch(() => {}); // awaited in turn, unless the transfer failed before
      reads.set(j, read);
    }
  };
  const packing = (async () => {
    for (const [i, f] of files.entries()) {
      const header = { name: f.name, size: f.size, mode: 0o600, type: 'file' } as const;
      if (f.size > SMALL_FILE) {
        // tar-stream fails the entry if the file's size changed since it was listed.
        await pipeline(createReadStream(f.path, { highWaterMark: CHUNK }), pack.entry(header));
        continue;
      }
      readAhead(i);
      const data = await reads.get(i)!;
      reads.delete(i);
      if (data.length !== f.size) throw new MigrateError('TRANSFER_FAILED', `${f.path} changed size while it was sent (${f.size} → ${data.length} bytes)`, { host: 'local' });
      await new Promise<void>((resolve, reject) => pack.entry(header, data, (err) => (err ? reject(err) : resolve())));
    }
    pack.finalize();
  })();
  // A failed or cancelled transfer stops reading; a file opened after that (its directory may be
  // gone by then: the rollback removes it) must not become an unhandled rejection.
  packing.catch(() => {});

  const receiver = options.receiver ?? startReceiver(target, remoteDir);
  let received: { stderr: string };
  try {
    [, , received] = await Promise.all([
      packing,
      pipeline(pack, hashing(hash), counter((n) => options.onProgress?.add(n)), new CompressStream({ compressionLevel: options.level ?? 1, nbWorkers: rawBytes < ZSTD_WORKER_FROM ? 0 : ZSTD_WORKERS }),
        counter((n) => (wireBytes += n), options.tamper), receiver.stdin, ...(options.signal ? [{ signal: options.signal }] : [])),
      receiver.done,
    ]);
  } catch (e) {
    pack.destroy();
    const failed = await transferFailed(e, [receiver.done], {
      what: 'sending the checkpoint images failed', host: target.name, hint: 'check the link and free space under the target directory', signal: options.signal,
    });
    receiver.kill();
    throwIfAborted(options.signal);
    throw failed;
  }
  const digest = hash.digest('hex');
  checkDigests(target.name, 'checkpoint images', digest, digestOf(received.stderr));
  return { files: files.length, rawBytes, wireBytes, digest };
}
