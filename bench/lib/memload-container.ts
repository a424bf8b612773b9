/** memload as a Docker container on a lab host: its `docker run`/`docker create` arguments, its ticks. */
import type { Transport } from '../../src/index.js';
import { memloadArgs, parseTicks, type MemloadParams, type Tick } from './memload.js';

/** Arguments after `docker run -d` / `docker create`: the same on A and for a twin on B. */
export const containerArgs = (image: string, name: string, p: MemloadParams): string[] => [
  '--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined', image, ...memloadArgs(p),
];

export const containerTicks = async (t: Transport, name: string): Promise<Tick[]> => parseTicks((await t.exec(['docker', 'logs', name])).stdout);

/** Removes the container wherever it is (it may exist on neither host after a failure). */
export async function removeContainer(name: string, ...hosts: Transport[]): Promise<void> {
  for (const t of hosts) await t.exec(['docker', 'rm', '-f', name], { allowFailure: true });
}
