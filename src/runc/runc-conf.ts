/**
 * Scoped overrides of /etc/criu/runc.conf. runc hands that file to CRIU on every checkpoint and
 * restore, and options in it override what runc sent over RPC (CRIU's cr-service.c,
 * setup_opts_from_req) — including `images-dir` and `work-dir`. That lets `docker checkpoint
 * create` / `docker start --checkpoint` read and write the images in migrate's own directory
 * instead of copying them through containerd's content store (measured: 0.8 s instead of 9.5 s
 * for 256 MiB).
 *
 * The file is host-wide: every override is made under a host lock, for one operation, and the
 * previous content is put back afterwards, also on failure.
 *
 * CRIU 4.1.1 calls readlink() on an `images-dir` given in the config file and fails with
 * EINVAL on a plain directory, so `images-dir` must name a symlink to the real directory.
 */
import type { Transport } from '../../transports/transport.js';
import { lockHost, type HostLock } from '../host-lock.js';
import { hostScript } from '../host-scripts/index.js';

export const RUNC_CONF = '/etc/criu/runc.conf';

/** runc.conf's line for CRIU's leave-stopped: a dump or restore through runc leaves the processes stopped (SIGSTOP). */
export const LEAVE_STOPPED = 'leave-stopped';
/**
 * Serialises every override of the file (taken by anything that needs runc.conf left alone):
 * the directory that holds it, so the lock goes wherever the file goes (in the lab, host B has
 * its own /etc/criu but shares /run with A; a post-copy holds A's override for the whole window
 * while B's restore needs B's).
 */
export const RUNC_CONF_LOCK = '/etc/criu';

export interface RuncConfOverride {
  imagesLink: string;
  workDir?: string;
  extra?: string[];
}

/** First line of every override: lets a later run recognise one left by a crashed run. */
/** Where an override keeps the file it replaced. */
export const RUNC_CONF_BACKUP = `${RUNC_CONF}.migrate-backup`;

export const MARKER = '# written by migrate for one operation; the previous file is in runc.conf.migrate-backup';

export function runcConfText(o: RuncConfOverride): string {
  const lines = [MARKER, `images-dir ${o.imagesLink}`];
  if (o.workDir) lines.push(`work-dir ${o.workDir}`);
  return [...lines, ...(o.extra ?? [])].join('\n') + '\n';
}

/** Runs `fn` while runc.conf holds the override; always restores the previous file. */
/** Takes the runc.conf lock (the directory /etc/criu, made when missing), waiting up to `waitS` for it. */
export const lockRuncConf = (t: Transport, waitS = 60): Promise<HostLock> => lockHost(t, RUNC_CONF_LOCK, RUNC_CONF, waitS, { dir: true });

export async function withRuncConf<T>(t: Transport, o: RuncConfOverride, fn: () => Promise<T>): Promise<T> {
  const lock = await lockRuncConf(t);
  const backup = RUNC_CONF_BACKUP;
  try {
    // Under the lock, a file that starts with our marker was left by a run that died mid-way:
    // put its backup back (or remove it) before saving the real previous content.
    await t.exec(hostScript('override-runc-conf', RUNC_CONF, backup, MARKER), { input: runcConfText(o) });
    return await fn();
  } finally {
    try {
      await t.exec(hostScript('restore-runc-conf', RUNC_CONF, backup));
    } finally {
      await lock.release();
    }
  }
}
