/** A process tree on a host, read from /proc through a transport: its PIDs, state and memory. */
import type { Transport } from '../../transports/transport.js';
import { hostScript } from '../host-scripts/index.js';

export interface TreeInfo {
  /** The root first, then its descendants (depth first). */
  pids: number[];
  /** The root is PID 1 of its own PID namespace (so CRIU can restore it under any host PID). */
  nsInit: boolean;
  /** Resident bytes of the whole tree. */
  rss: number;
}

export async function describeTree(t: Transport, pid: number): Promise<TreeInfo> {
  const r = await t.exec(hostScript('describe-tree', String(pid)));
  const [nsLine, ...rows] = r.stdout.trim().split('\n');
  const nspid = (nsLine ?? '').split(/\s+/).slice(1);
  const pids = rows.map((l) => Number(l.split(' ')[0]));
  const rss = rows.reduce((s, l) => s + Number(l.split(' ')[1] || 0) * 1024, 0);
  return { pids, nsInit: nspid.length > 1 && nspid[nspid.length - 1] === '1', rss };
}

export interface ProcStat {
  /** One letter: R running, S sleeping, T stopped, Z zombie, ... */
  state: string;
  /** Start time in clock ticks since boot: tells a reused PID from the same process. */
  startTime: string;
}

export async function procStat(t: Transport, pid: number): Promise<ProcStat | undefined> {
  const r = await t.exec(hostScript('read-proc-stat', String(pid)), { allowFailure: true });
  const fields = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  return r.exitCode === 0 && fields.length > 19 ? { state: fields[0]!, startTime: fields[19]! } : undefined;
}

/** Sends a signal to every PID given (SIGCONT must reach each stopped process itself). */
export async function signalAll(t: Transport, signal: 'CONT' | 'KILL', pids: number[]): Promise<void> {
  if (pids.length > 0) await t.exec(['kill', `-${signal}`, ...pids.map(String)]);
}
