/**
 * A plain process tree as a migration workload, checkpointed with CRIU directly. The tree must
 * be restorable under its PIDs on the target: either it is the init of its own PID namespace
 * (`unshare --pid --fork`, checked in preflight), or its PIDs are free there. Files it holds
 * open must exist at the same paths on the target (shared storage); CRIU refuses otherwise.
 */
import { posix } from 'node:path';
import type { Transport } from '../../transports/transport.js';
import { dump, restore } from '../criu/run.js';
import { MigrateError } from '../errors.js';
import type { Endpoint } from '../transfer/page-tee.js';
import type { Dirs, Workload } from './workload.js';

/** Start time of a process (field 22 of /proc/PID/stat): tells a PID's reuse from the same process. */
export async function startTime(t: Transport, pid: number): Promise<string | undefined> {
  const r = await t.exec(['sh', '-c', 'cat /proc/"$1"/stat 2>/dev/null', 'stat', String(pid)], { allowFailure: true });
  const afterComm = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  return r.exitCode === 0 && afterComm.length > 19 ? afterComm[19] : undefined;
}

async function readPid(t: Transport, file: string): Promise<number> {
  const r = await t.exec(['cat', file]);
  return Number(r.stdout.trim());
}

export class TreeWorkload implements Workload {
  readonly kind = 'process-tree';
  readonly label: string;
  private restoredPid?: number;
  private sourcePid: number;
  private sourceStart?: string;

  constructor(private readonly source: Transport, private readonly target: Transport, pid: number, start: string | undefined) {
    this.sourcePid = pid;
    this.sourceStart = start;
    this.label = `process tree ${pid}`;
  }

  async prepareTarget(): Promise<void> {}

  async checkpoint(dirs: Dirs, pageServer?: Endpoint): Promise<void> {
    await dump(this.source, { pid: this.sourcePid, imagesDir: dirs.images, workDir: dirs.work, pageServer: pageServer && { address: pageServer.host, port: pageServer.port } });
  }

  async restoreOnTarget(dirs: Dirs): Promise<string> {
    const pidfile = posix.join(dirs.work, 'restored.pid');
    await restore(this.target, { imagesDir: dirs.images, workDir: dirs.work, pidfile });
    this.restoredPid = await readPid(this.target, pidfile);
    if (!(await startTime(this.target, this.restoredPid))) {
      throw new MigrateError('RESTORE_FAILED', `the restored tree (PID ${this.restoredPid}) is not running`, { host: this.target.name });
    }
    return `pid ${this.restoredPid}`;
  }

  async removeFromTarget(): Promise<void> {
    if (this.restoredPid) await this.target.exec(['kill', '-KILL', String(this.restoredPid)], { allowFailure: true });
  }

  async restoreOnSource(dirs: Dirs): Promise<void> {
    const pidfile = posix.join(dirs.work, 'rollback.pid');
    await restore(this.source, { imagesDir: dirs.images, workDir: dirs.work, pidfile });
    this.sourcePid = await readPid(this.source, pidfile);
    this.sourceStart = await startTime(this.source, this.sourcePid);
  }

  async runsOnSource(): Promise<boolean> {
    const now = await startTime(this.source, this.sourcePid);
    return now !== undefined && now === this.sourceStart;
  }

  async finishSource(): Promise<void> {} // CRIU's dump already ended the tree on the source

  manualRestoreHint(dirs: Dirs): string {
    return `restore it with: criu restore -d -D ${dirs.images} -W ${dirs.work}`;
  }
}
