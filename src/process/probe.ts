/**
 * What CRIU will meet in a process tree, read in one command on its host before anything is
 * frozen: each process's user and group IDs, the TCP sockets the processes hold (matched by inode
 * against the tables of their network namespaces), and the capabilities of the host's root.
 */
import type { Transport } from '../../transports/transport.js';
import { hostScript } from '../host-scripts/index.js';
import { parseIdLine, type Ids } from './credentials.js';
import { parseTcpTable, type TcpSocket } from './tcp-table.js';

export interface TreeProbe {
  /** The host's root as migrate's commands run there: its IDs and effective capabilities (hex). */
  caller: Ids & { capEff: string };
  processes: Array<{ pid: number } & Ids>;
  /** TCP sockets held open by the tree's processes. */
  sockets: TcpSocket[];
}

/** Reads probe-tree.sh's output (its header describes the lines). */
export function parseProbe(text: string): TreeProbe {
  const caller: TreeProbe['caller'] = { uids: [], gids: [], capEff: '' };
  const processes: TreeProbe['processes'] = [];
  const owned = new Set<number>();
  const tables: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('C ')) {
      const [key = '', ...rest] = line.slice(2).split(/\s+/);
      if (key === 'Uid:') caller.uids = rest.slice(0, 3).map(Number);
      else if (key === 'Gid:') caller.gids = rest.slice(0, 3).map(Number);
      else if (key === 'CapEff:') caller.capEff = rest[0] ?? '';
    } else if (line.startsWith('P ')) processes.push({ pid: Number(line.slice(2)), uids: [], gids: [] });
    else if (line.startsWith('Uid:') && processes.length > 0) processes[processes.length - 1]!.uids = parseIdLine(line);
    else if (line.startsWith('Gid:') && processes.length > 0) processes[processes.length - 1]!.gids = parseIdLine(line);
    else if (line.startsWith('S ')) {
      const m = /socket:\[(\d+)\]/.exec(line);
      if (m) owned.add(Number(m[1]));
    } else if (!line.startsWith('T ')) tables.push(line);
  }
  const sockets = parseTcpTable(tables.join('\n')).filter((s) => s.inode !== 0 && owned.has(s.inode));
  return { caller, processes, sockets };
}

export async function probeTree(t: Transport, pids: readonly number[]): Promise<TreeProbe> {
  const r = await t.exec(hostScript('probe-tree', ...pids.map(String)));
  return parseProbe(r.stdout);
}
