/**
 * Keeps a directory tree on the target in step with one on the source, in two passes: everything
 * while the workload still runs, then, while it is frozen, only what changed since (by a second
 * listing). The frozen pass is what the freeze pays for; the first pass can be as big as it likes.
 */
import type { Transport } from '../../transports/transport.js';
import { diffListings } from './diff.js';
import { dataBytes, listTree, type Listing } from './listing.js';
import { TreeStream, removeFromTree, sendTree, type TreeStreamOptions } from './tree-stream.js';

export interface TreePassStats {
  /** Entries sent (files, directories, links...) and entries removed on the target. */
  entries: number;
  removed: number;
  /** Regular-file bytes sent (before compression) and what crossed the link. */
  bytes: number;
  wireBytes: number;
  ms: number;
}

export class TreeSync {
  private first?: Listing;
  /** The frozen pass's copy, started before the freeze. */
  private next?: TreeStream;

  /** `label` names the tree in messages and reports: "writable layer", "volume data". */
  constructor(readonly label: string, private readonly source: Transport, readonly srcRoot: string,
    private readonly target: Transport, readonly dstRoot: string, private readonly o: Omit<TreeStreamOptions, 'changing'> = {}) {}

  /** Copies the whole tree while it may still change. */
  async beforeFreeze(): Promise<TreePassStats> {
    const started = Date.now();
    this.first = await listTree(this.source, this.srcRoot);
    const names = [...this.first.entries.keys()];
    const { wireBytes } = await sendTree(this.source, this.srcRoot, this.target, this.dstRoot, names, { ...this.o, changing: true });
    await this.keepWhatArrived(this.first);
    this.next = new TreeStream(this.source, this.srcRoot, this.target, this.dstRoot, { ...this.o, changing: false });
    return { entries: names.length, removed: 0, bytes: dataBytes(this.first), wireBytes, ms: Date.now() - started };
  }

  /**
   * What the first pass really delivered: an entry the running workload moved away before tar
   * read it was listed but not sent, and may be back at its path by the freeze with its inode and
   * times unchanged (a directory renamed away and back): left in the first listing, the frozen
   * pass would take it for sent. So an entry the target does not hold as listed (same type;
   * regular files the same size) is marked changed in the first listing: the frozen pass sends
   * it again if it is there then, and removes it from the target if not. Read from the target
   * before the freeze.
   */
  private async keepWhatArrived(first: Listing): Promise<void> {
    const there = await listTree(this.target, this.dstRoot);
    for (const [name, e] of first.entries) {
      const t = there.entries.get(name);
      if (!t || t.type !== e.type || (e.type === 'f' && t.size !== e.size)) first.entries.set(name, { ...e, ino: -1 }); // never the same
    }
  }

  /** Stops the stream started for the frozen pass (the migration ended before it). */
  close(): void {
    this.next?.abort();
    this.next = undefined;
  }

  /** While frozen: removes what went away and sends what changed since beforeFreeze (or all of it). */
  async whileFrozen(): Promise<TreePassStats> {
    const started = Date.now();
    const now = await listTree(this.source, this.srcRoot);
    const diff = this.first
      ? diffListings(this.first, now)
      : { send: [...now.entries.keys()], remove: [] };
    await removeFromTree(this.target, this.dstRoot, diff.remove);
    const stream = this.next ?? new TreeStream(this.source, this.srcRoot, this.target, this.dstRoot, { ...this.o, changing: false });
    this.next = undefined;
    const { wireBytes } = await stream.send(diff.send);
    return { entries: diff.send.length, removed: diff.remove.length, bytes: dataBytes(now, diff.send), wireBytes, ms: Date.now() - started };
  }
}

/** What crossed for a workload's trees in one pass (they are copied side by side). */
export interface FilesystemPass {
  bytes: number;
  wireBytes: number;
  ms: number;
  trees: Array<{ tree: string } & TreePassStats>;
}

/** The pass of a workload that has no files of its own to copy. */
export const NO_FILES: FilesystemPass = { bytes: 0, wireBytes: 0, ms: 0, trees: [] };

export async function runPass(trees: readonly TreeSync[], run: (t: TreeSync) => Promise<TreePassStats>): Promise<FilesystemPass> {
  const started = Date.now();
  const stats = await Promise.all(trees.map(async (t) => ({ tree: t.label, ...(await run(t)) })));
  return {
    bytes: stats.reduce((s, x) => s + x.bytes, 0),
    wireBytes: stats.reduce((s, x) => s + x.wireBytes, 0),
    ms: Date.now() - started,
    trees: stats,
  };
}
