/** Lab containers running the memload workload: start them, read their ticks and checksums. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Transport } from '../../transports/transport.js';
import { readFileVia } from '../../transports/files.js';
import { LocalTransport } from '../../transports/local.js';
import { ensureLab } from './lab.js';

let n = 0;

export async function startContainer(t: Transport, mib = 32, tickMs = 50): Promise<string> {
  const name = `mig-${process.pid}-${++n}`;
  await t.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined',
    ensureLab().image, '--mib', String(mib), '--tick-ms', String(tickMs)]);
  for (let i = 0; i < 100 && !/^tick /m.test(await logs(t, name)); i++) await sleep(100);
  return name;
}

/** containerd's copies of the checkpoints it restored (src/docker/restore-copies.ts): its temp dir is /tmp in the lab. */
export async function restoreCopies(t: Transport): Promise<string[]> {
  return (await t.exec(['sh', '-c', 'ls -d /tmp/ctrd-checkpoint* 2>/dev/null || true'])).stdout.split('\n').filter(Boolean);
}

/** The copies made since `before` (restoreCopies' answer then). */
export const newRestoreCopies = async (t: Transport, before: string[]): Promise<string[]> => (await restoreCopies(t)).filter((d) => !before.includes(d));

export async function logs(t: Transport, name: string): Promise<string> {
  const r = await t.exec(['docker', 'logs', name]);
  return r.stdout + r.stderr;
}

/**
 * Asks a memload workload for its memory checksum: `poke` sends it SIGUSR1, `output` reads what
 * it printed. Fails if it found bad pages.
 */
export async function askChecksum(poke: () => Promise<unknown>, output: () => Promise<string>): Promise<string> {
  const before = (await output()).match(/^check .*$/gm)?.length ?? 0;
  await poke();
  for (let i = 0; i < 50; i++) {
    const lines = (await output()).match(/^check \d+ sum=(\w+) pages=\d+ bad=(\d+)$/gm) ?? [];
    if (lines.length > before) {
      const m = /sum=(\w+) pages=\d+ bad=(\d+)/.exec(lines[lines.length - 1]!)!;
      if (m[2] !== '0') throw new Error(`memory check found ${m[2]} bad pages`);
      return m[1]!;
    }
    await sleep(100);
  }
  throw new Error('no check line');
}

/** The memory checksum of a tree on `t` whose output file `out` the controller can read. */
export function treeChecksum(t: Transport, pid: number, out: string): Promise<string> {
  return askChecksum(() => t.exec(['kill', '-USR1', String(pid)]), async () => (await readFileVia(new LocalTransport(), out)).toString('utf8'));
}

/** The memory checksum of a lab container. */
export function checksum(t: Transport, name: string): Promise<string> {
  return askChecksum(() => t.exec(['docker', 'kill', '-s', 'USR1', name]), () => logs(t, name));
}

export const tickNums = (text: string): number[] => [...text.matchAll(/^tick (\d+) /gm)].map((m) => Number(m[1]));

export async function running(t: Transport, name: string): Promise<string> {
  return (await t.exec(['docker', 'inspect', '--format', '{{.State.Running}}', name], { allowFailure: true })).stdout.trim();
}

export async function exists(t: Transport, name: string): Promise<boolean> {
  return (await t.exec(['docker', 'container', 'inspect', name], { allowFailure: true })).exitCode === 0;
}

export async function removeEverywhere(name: string, ...hosts: Transport[]): Promise<void> {
  for (const h of hosts) await h.exec(['docker', 'rm', '-f', name], { allowFailure: true });
}

/** Checkpoint directories of a container (by its ID) left under /var/lib/migrate on a host. */
export async function imageDirsOf(t: Transport, id: string): Promise<number> {
  return Number((await t.exec(['sh', '-c', 'ls /var/lib/migrate | grep -c "^$1-" || true', 'dirs', id.slice(0, 12)])).stdout.trim());
}

export async function containerId(t: Transport, name: string): Promise<string> {
  return (await t.exec(['docker', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();
}
