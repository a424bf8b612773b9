/** Docker's own cost of starting a container on a host, no CRIU: a plain `docker start` of a created, never-run one. */
import type { Transport } from '../../src/index.js';
import { out } from './commands.js';
import { timed } from './stats.js';

export interface DockerStartSample { host: string; start_ms: number; version_ms: number }

/** A never-run container of the lab's workload image (1 MiB resident) started, then removed; and a `docker version` round trip. */
export async function plainDockerStart(t: Transport, image: string): Promise<DockerStartSample> {
  const id = await out(t, ['docker', 'create', '--security-opt', 'seccomp=unconfined', image, '--mib', '1', '--tick-ms', '1000']);
  try {
    const start = await timed(() => t.exec(['docker', 'start', id]));
    const version = await timed(() => t.exec(['docker', 'version', '--format', '{{.Server.Version}}']));
    return { host: t.name, start_ms: start.ms, version_ms: version.ms };
  } finally {
    await t.exec(['docker', 'rm', '-f', id], { allowFailure: true });
  }
}
