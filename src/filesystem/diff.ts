/**
 * What changed in a tree between two listings: the entries to send again and the ones to remove
 * on the other side. Pure, so the rules are unit-tested.
 */
import type { Entry, Listing } from './listing.js';

export interface TreeDiff {
  /** New or changed entries, parents before children (directories without their contents). */
  send: string[];
  /** Entries gone (or whose type changed): only the topmost of each removed subtree. */
  remove: string[];
}

/**
 * Timestamps come from a coarse kernel clock: a change in the same tick as the first listing
 * can leave every field as it was. Entries whose ctime is this close to (or after) the moment
 * the first listing started are sent again, whatever else they say.
 */
export const RACY_MARGIN_S = 1;

const same = (a: Entry, b: Entry): boolean =>
  a.type === b.type && a.ino === b.ino && a.size === b.size && a.mtime === b.mtime && a.ctimeText === b.ctimeText &&
  a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.links === b.links;

const parentOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

export function diffListings(before: Listing, after: Listing, racyMarginS = RACY_MARGIN_S): TreeDiff {
  const changed = new Set<string>();
  for (const [name, e] of after.entries) {
    const old = before.entries.get(name);
    if (!old || !same(old, e) || e.ctime >= before.startedAt - racyMarginS) changed.add(name);
  }
  // Parents of what changes are sent too (no contents), so their times and modes end up right.
  for (const name of [...changed]) {
    for (let p = parentOf(name); p !== '' && !changed.has(p); p = parentOf(p)) changed.add(p);
  }
  const send = [...after.entries.keys()].filter((n) => changed.has(n));

  const removed = new Set<string>();
  for (const [name, e] of before.entries) {
    const now = after.entries.get(name);
    if (!now || now.type !== e.type) removed.add(name);
  }
  const remove = [...removed].filter((name) => {
    for (let p = parentOf(name); p !== ''; p = parentOf(p)) if (removed.has(p)) return false;
    return true;
  });
  return { send, remove };
}
