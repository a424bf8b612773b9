/**
 * What a directory tree on a host holds, entry by entry, as `find` sees it (without following
 * symlinks): the basis for copying it before the freeze and only the difference during it.
 */
import type { Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';
import { EXIT, hostScript } from '../host-scripts/index.js';

/** find's %y: f file, d directory, l symlink, c/b device (overlay whiteouts are c 0:0), p fifo, s socket. */
export type EntryType = 'f' | 'd' | 'l' | 'c' | 'b' | 'p' | 's';

export interface Entry {
  type: EntryType;
  ino: number;
  links: number;
  size: number;
  /** Seconds since the epoch, as find prints them (nanosecond fractions where the filesystem has them). */
  mtime: string;
  ctime: number;
  ctimeText: string;
  mode: string;
  uid: number;
  gid: number;
}

export interface Listing {
  /** Relative path → entry; a parent always comes before its children. */
  entries: Map<string, Entry>;
  /** The host's clock when the listing started (to spot entries changed within one timestamp tick). */
  startedAt: number;
}

const FORMAT = '%y\\t%i\\t%n\\t%s\\t%T@\\t%C@\\t%m\\t%U\\t%G\\t%p\\0';

/**
 * Lists `root` on `host`: everything below it when it is a directory, or just `root` itself
 * when it is a file (then the entry is named by its basename and the tree's root is its parent).
 * A running workload may create and delete files meanwhile: an entry that vanishes between
 * readdir and stat is left out, not an error (`-ignore_readdir_race`).
 */
export async function listTree(host: Transport, root: string): Promise<Listing> {
  const r = await host.exec(hostScript('list-tree', root, FORMAT), { allowFailure: true });
  if (r.exitCode === EXIT.CANNOT_ENTER) {
    throw new MigrateError('PREFLIGHT', `cannot read directory ${root}`, { host: host.name, stderr: r.stderr.trim() });
  }
  if (r.exitCode !== 0) {
    throw new MigrateError('COMMAND_FAILED', `listing ${root} failed`, { host: host.name, stderr: r.stderr.trim() });
  }
  return parseListing(r.stdout);
}

export function parseListing(text: string): Listing {
  const records = text.split('\0');
  const startedAt = Number(records.shift());
  const entries = new Map<string, Entry>();
  for (const rec of records) {
    if (rec === '') continue;
    const f = rec.split('\t');
    if (f.length < 10) throw new MigrateError('COMMAND_FAILED', `unexpected find output: ${JSON.stringify(rec.slice(0, 200))}`);
    const path = f.slice(9).join('\t').replace(/^\.\//, '');
    entries.set(path, {
      type: f[0] as EntryType,
      ino: Number(f[1]),
      links: Number(f[2]),
      size: Number(f[3]),
      mtime: f[4]!,
      ctimeText: f[5]!,
      ctime: Number(f[5]),
      mode: f[6]!,
      uid: Number(f[7]),
      gid: Number(f[8]),
    });
  }
  return { entries, startedAt };
}

/** Bytes of regular-file data in a listing (each inode counted once). */
export function dataBytes(l: Listing, names?: Iterable<string>): number {
  const seen = new Set<number>();
  let n = 0;
  for (const name of names ?? l.entries.keys()) {
    const e = l.entries.get(name);
    if (!e || e.type !== 'f' || seen.has(e.ino)) continue;
    seen.add(e.ino);
    n += e.size;
  }
  return n;
}
