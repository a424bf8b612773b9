/**
 * Docker's documented checkpoint workflow must run with Docker's own runc.conf: migrate
 * overrides /etc/criu/runc.conf for one operation at a time (src/docker/runc-conf.ts), and an
 * override left in place (images-dir, page-server, ...) would speed up or redirect the baseline.
 * The hold takes migrate's own runc.conf lock on every host, so no migrate run can write an
 * override while the baseline runs, and refuses a runc.conf that is overridden already.
 */
import type { Transport } from '../../transports/transport.js';
import { lockRuncConf, MARKER, RUNC_CONF, RUNC_CONF_LOCK } from '../../src/runc/runc-conf.js';
import type { HostLock } from '../../src/host-lock.js';
import { out } from './commands.js';
import { fail } from './fail.js';

/** runc.conf lines that would redirect or split Docker's checkpoint: what migrate writes. */
const OVERRIDE = /^\s*(images-dir|work-dir|lazy-pages|page-server)\b/m;

/** One id per lock file: in the lab A and B share /run, so one lock covers both hosts. */
async function lockFileId(t: Transport): Promise<string> {
  return out(t, ['sh', '-c', 'mkdir -p "$1" && echo "$(cat /proc/sys/kernel/random/boot_id) $(stat -c %d:%i "$1")"', 'lock-id', RUNC_CONF_LOCK]);
}

/** The host's runc.conf, or null when it has none. */
export async function runcConf(t: Transport): Promise<string | null> {
  const r = await t.exec(['cat', RUNC_CONF], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : null;
}

/** Takes migrate's runc.conf lock on every host and refuses a runc.conf that migrate overrode. */
export async function holdPlainRuncConf(hosts: Transport[]): Promise<HostLock> {
  const locks = new Map<string, HostLock>();
  const release = async () => { for (const l of locks.values()) await l.release(); };
  try {
    for (const t of hosts) {
      const id = await lockFileId(t);
      if (!locks.has(id)) locks.set(id, await lockRuncConf(t, 120));
      const conf = await runcConf(t);
      if (conf !== null && (conf.startsWith(MARKER) || OVERRIDE.test(conf))) fail(`${RUNC_CONF} on ${t.name} is overridden:\n${conf}`);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { release };
}
