/**
 * Moves chosen entries of a directory tree from one host to another as one stream:
 *   source: GNU tar (owners, modes, xattrs incl. overlayfs' trusted.*, ACLs, hard links, device
 *   nodes such as overlay whiteouts, sparse files) | zstd → the controller → target: zstd -d |
 *   tar -x.
 * GNU tar rather than tar-stream: the source may be a remote host, and xattrs, ACLs and device
 * nodes need tar's own readers. Nothing is written to a temporary archive. Both ends hash the
 * uncompressed tar stream (stream-digest.ts) and the controller compares the two digests, so
 * what crossed the wire is verified even for files that are still changing (before the freeze).
 *
 * Extraction is contained: GNU tar refuses member names with `..` and strips leading slashes,
 * and it creates a symlink that points outside (absolute or `..`) only after the archive ends,
 * so no member is written through one. Removals refuse any path with a symlink among its parents.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError, throwIfAborted } from '../../transports/errors.js';
import { pipeline } from 'node:stream/promises';
import { counter } from '../transfer/send-dir.js';
import { coalesce } from '../transfer/coalesce.js';
import { transferFailed } from '../transfer/failure.js';
import { checkDigests, digestOf } from '../transfer/stream-digest.js';
import { hostScript } from '../host-scripts/index.js';

export interface TreeStreamOptions {
  /** zstd level (filesystem data compresses, unlike memory: 3 is a good trade). */
  level?: number;
  /**
   * Before the freeze files may change, vanish or appear while tar reads them: accept that (the
   * frozen pass sends the truth). Frozen, every listed entry must be read.
   */
  changing?: boolean;
  signal?: AbortSignal;
  /** Test hook: alter the compressed stream. */
  tamper?: (chunk: Buffer, offset: number) => Buffer;
}

/** Entry names the sender accepts: relative, no `..` part, no NUL. `.` is the tree's root. */
export function safeTreeName(name: string): boolean {
  if (name === '.') return true;
  if (name === '' || name.startsWith('/') || name.includes('\0')) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function checkNames(names: readonly string[], host: string): void {
  const bad = names.find((n) => !safeTreeName(n));
  if (bad !== undefined) throw new MigrateError('BAD_INPUT', `refusing to copy ${JSON.stringify(bad)}: not a safe relative name`, { host });
}

/**
 * Both ends of one copy, started ahead: the sender's tar waits for the list of names on its
 * stdin, so a copy made while the workload is frozen does not also pay for starting two
 * processes over SSH.
 */
export class TreeStream {
  private readonly sender;
  private readonly receiver;
  private wireBytes = 0;
  private readonly flowing: Promise<unknown>;
  private aborted = false;

  constructor(private readonly source: Transport, private readonly srcRoot: string, private readonly target: Transport,
    private readonly dstRoot: string, private readonly o: TreeStreamOptions = {}) {
    this.sender = source.spawn(hostScript('send-tree', srcRoot, String(o.level ?? 3), o.changing ? 'changing' : 'still'));
    this.receiver = target.spawn(hostScript('receive-tar', dstRoot, o.changing ? 'tree-changing' : 'tree'));
    this.receiver.stdout.resume();
    this.sender.stdin.on('error', () => {}); // a sender that failed early says why in its exit
    this.flowing = Promise.all([
      pipeline(this.sender.stdout, coalesce(), counter((n) => (this.wireBytes += n), o.tamper), this.receiver.stdin,
        ...(o.signal ? [{ signal: o.signal }] : [])),
      this.sender.done,
      this.receiver.done,
    ]);
    this.flowing.catch(() => {}); // observed in send(); an unused stream is aborted
  }

  /** Sends `names` (relative to the source root; `.` is the root itself); returns the bytes on the wire. */
  async send(names: readonly string[]): Promise<{ wireBytes: number }> {
    checkNames(names, this.source.name);
    this.sender.stdin.end(Buffer.from(names.map((n) => (n === '.' ? '.\0' : `./${n}\0`)).join('')));
    let sent, received;
    try {
      [, sent, received] = (await this.flowing) as [unknown, { stderr: string }, { stderr: string }];
    } catch (e) {
      const failed = await transferFailed(e, [this.sender.done, this.receiver.done], {
        what: `copying files from ${this.srcRoot} on ${this.source.name} to ${this.dstRoot} failed`, host: this.target.name,
        hint: 'check the link and free space on the target', signal: this.o.signal,
      });
      this.abort();
      throwIfAborted(this.o.signal);
      throw failed;
    }
    checkDigests(this.target.name, `files copied from ${this.srcRoot} to ${this.dstRoot}`, digestOf(sent.stderr), digestOf(received.stderr));
    return { wireBytes: this.wireBytes };
  }

  /** Stops both ends (a stream that will not be used, or a failed one). */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    // Closing their inputs ends what a kill might miss (the sender's tar waits on its stdin).
    this.sender.stdin.destroy();
    this.receiver.stdin.destroy();
    this.sender.kill();
    this.receiver.kill();
  }
}

/** Sends `names` (relative to srcRoot) into dstRoot; returns the bytes that crossed the link. */
export async function sendTree(source: Transport, srcRoot: string, target: Transport, dstRoot: string,
  names: readonly string[], o: TreeStreamOptions = {}): Promise<{ wireBytes: number }> {
  checkNames(names, source.name);
  if (names.length === 0) return { wireBytes: 0 };
  return new TreeStream(source, srcRoot, target, dstRoot, o).send(names);
}

/** Removes `names` (relative to root) on a host, never through a symlink. */
export async function removeFromTree(host: Transport, root: string, names: readonly string[]): Promise<void> {
  checkNames(names, host.name);
  if (names.length === 0) return;
  const r = await host.exec(hostScript('remove-from-tree', root), { input: names.map((n) => `${n}\0`).join(''), allowFailure: true });
  if (r.exitCode !== 0) {
    throw new MigrateError('TRANSFER_FAILED', `removing deleted files under ${root} failed`, { host: host.name, stderr: r.stderr.trim() });
  }
}
