/**
 * The shell scripts migrate runs on the hosts: one `NAME.sh` in this folder each, whose header
 * says what it does, its arguments, what it reads and prints, and its exit codes.
 */
import { scriptRunner } from '../../transports/host-scripts/load.js';

export const HOST_SCRIPTS = [
  'can-connect',
  'count-page-images',
  'cut-connections',
  'describe-tree',
  'find-runc-state',
  'free-space',
  'freeze-started',
  'host-guard',
  'is-empty-dir',
  'lazy-pages-read-bytes',
  'list-file-sizes',
  'list-missing-paths',
  'list-missing-tools',
  'list-outside-tree',
  'list-pids-in-use',
  'list-tree',
  'load-image',
  'lock-host',
  'make-dirs',
  'make-private-dir',
  'make-round-dir',
  'override-runc-conf',
  'probe-tree',
  'read-proc-stat',
  'read-stdio-links',
  'receive-tar',
  'remove-from-tree',
  'remove-restore-copies',
  'remove-stale-dirs',
  'reset-connections',
  'resolve-symlinks',
  'restore-runc-conf',
  'restore-stale-runc-conf',
  'route-source',
  'send-files',
  'send-tree',
  'sum-rss',
  'tell-time',
  'unlock-network',
  'wait-listening',
] as const;

export type HostScript = (typeof HOST_SCRIPTS)[number];

/** Exit codes callers tell apart; a script's header names the constant beside the number. */
export const EXIT = {
  /** The directory given cannot be (made or) entered. */
  CANNOT_ENTER: 3,
  /** lock-host.sh: another process holds the lock (flock -E). */
  LOCK_HELD: 75,
  /** reset-connections.sh: the network namespace is the host's, or shared with a process that runs. */
  NOT_ITS_OWN_NETNS: 5,
} as const;

/** The argv that runs a script on a host: `[shell, '-c', body, name, ...args]`, e.g. `hostScript('send-tree', root, '3', 'still')`. */
export const hostScript: (name: HostScript, ...args: string[]) => string[] = scriptRunner(import.meta.url);
