/**
 * The stages of migrate's image path, each alone, each timed: what one CRIU dump directory costs
 * at every step between CRIU on A and the files on B. Times on B are taken by B's own clock
 * (`date +%s%N` around the command), so the SSH round trip that starts it is not in them.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { CompressStream } from 'zstd-napi';
import type { Transport } from '../../transports/transport.js';
import { hashing, streamHash } from '../../src/transfer/stream-digest.js';
import { fail } from './fail.js';
import { openSshArgs, type Lab } from './lab.js';

/** send-dir.ts reads in 1 MiB chunks (ssh2 costs per write); the stages read the same way. */
const CHUNK = 1 << 20;

/** Regular files under dir (recursively), sorted, as send-dir.ts lists them. */
export async function imageFiles(dir: string, prefix = ''): Promise<Array<{ name: string; path: string; size: number }>> {
  const files: Array<{ name: string; path: string; size: number }> = [];
  for (const entry of (await readdir(join(dir, prefix))).sort()) {
    const name = prefix ? `${prefix}/${entry}` : entry;
    const st = await lstat(join(dir, name));
    if (st.isDirectory()) files.push(...(await imageFiles(dir, name)));
    else if (st.isFile()) files.push({ name, path: join(dir, name), size: st.size });
  }
  return files;
}

/**
 * A sink that counts what it receives and, with `keep`, keeps it (by reference) for the next
 * stage. Timed stages do not keep: holding hundreds of MiB of fresh buffers costs page faults
 * and GC work the real stream (which passes each chunk on and drops it) never pays.
 */
function collector(keep: boolean): { sink: Writable; chunks: Buffer[]; bytes: () => number } {
  const chunks: Buffer[] = [];
  let n = 0;
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { if (keep) chunks.push(chunk); n += chunk.length; cb(); } });
  return { sink, chunks, bytes: () => n };
}

export interface Packed { chunks: Buffer[]; bytes: number; digest: string }

/**
 * Read + tar (tar-stream) + the stream's digest, as sendDirectory packs: every file read in 1 MiB
 * chunks into a tar entry, the archive hashed as it leaves the packer. With `keep` the archive
 * stays in memory for the next stages.
 */
export async function packDirectory(dir: string, keep: boolean): Promise<Packed> {
  const files = await imageFiles(dir);
  const pack = tar.pack();
  const hash = streamHash();
  const out = collector(keep);
  const packing = (async () => {
    for (const f of files) {
      await pipeline(createReadStream(f.path, { highWaterMark: CHUNK }), pack.entry({ name: f.name, size: f.size, mode: 0o600, type: 'file' }));
    }
    pack.finalize();
  })();
  await Promise.all([packing, pipeline(pack, hashing(hash), out.sink)]);
  return { chunks: out.chunks, bytes: out.bytes(), digest: hash.digest('hex') };
}

/** zstd level 1 through zstd-napi's CompressStream with one worker thread, as sendDirectory compresses. */
export async function compress(chunks: Buffer[], keep: boolean, level = 1): Promise<{ chunks: Buffer[]; bytes: number }> {
  const out = collector(keep);
  await pipeline(Readable.from(chunks), new CompressStream({ compressionLevel: level, nbWorkers: 1 }), out.sink);
  return { chunks: out.chunks, bytes: out.bytes() };
}

/** Bytes into a command on a host through its transport (for B: one ssh2 channel on the open connection). */
export async function intoCommand(t: Transport, chunks: Buffer[], argv: string[]): Promise<void> {
  const cmd = t.spawn(argv);
  cmd.stdout.resume();
  await Promise.all([pipeline(Readable.from(chunks), cmd.stdin), cmd.done]);
}

/** Bytes into `ssh B 'cat > /dev/null'`: the OpenSSH binary, a new connection (as Docker's workflow uses it). */
export async function intoOpenSsh(lab: Lab, chunks: Buffer[], remote = 'cat > /dev/null'): Promise<void> {
  const child = spawn('ssh', [...openSshArgs(lab), remote], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  await pipeline(Readable.from(chunks), child.stdin);
  const [code, signal] = await exited;
  if (code !== 0) fail(`ssh … '${remote}' exited with ${code ?? signal}`);
}

/**
 * Runs a shell command on a host and returns how long it took by that host's clock (ms).
 * `script` gets the arguments as "$@"; `input` goes to its stdin.
 */
export async function timedThere(t: Transport, script: string, args: string[], input?: string): Promise<number> {
  const r = await t.exec(['sh', '-c', `set -e; s=$(date +%s%N); ${script}; e=$(date +%s%N); echo $((e - s))`, 'timed', ...args], input === undefined ? {} : { input });
  const ns = Number(r.stdout.trim().split('\n').pop());
  return Number.isFinite(ns) ? ns / 1e6 : fail(`no timing from ${t.name}: ${r.stdout}`);
}

/** `zstd -d` of a file on the host, to nowhere. */
export const zstdDecompressThere = (t: Transport, zstFile: string): Promise<number> => timedThere(t, 'zstd -d -q -c "$1" > /dev/null', [zstFile]);

/** `tar -x` of a file on the host into a directory, with the options migrate's receiver uses. */
export const untarThere = (t: Transport, tarFile: string, dir: string): Promise<number> =>
  timedThere(t, 'mkdir -p -m 0700 "$2"; tar -x --no-same-owner --no-same-permissions --no-overwrite-dir -f - -C "$2" < "$1"', [tarFile, dir]);

/** The receiver's digest of the tar stream (`sha256sum` of a file holding it), as src/host-scripts/receive-tar.sh takes it beside `tar -x`. */
export const digestThere = (t: Transport, tarFile: string): Promise<number> => timedThere(t, 'sha256sum < "$1" > /dev/null', [tarFile]);
