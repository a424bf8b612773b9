/**
 * A host's Docker daemon through its Engine API (dockerode), reached through the host's
 * transport: on this machine dockerode's own connection (DOCKER_HOST or /var/run/docker.sock),
 * over SSH `docker system dial-stdio` on the host — the Docker CLI's own way to reach a remote
 * daemon, which honours the host's DOCKER_HOST and context — on the SSH connection migrate
 * already holds. Connections are kept alive, so a run pays one command start per host, not
 * one per request.
 *
 * Two things stay Docker CLI calls on purpose: `docker checkpoint create` and `docker start
 * --checkpoint` must run to the end even if migrate dies (transport `outlive`), which a request
 * whose client went away does not promise; and `docker save | docker load` streams between the
 * hosts' shells (image-transfer.ts).
 */
import http from 'node:http';
import { Duplex } from 'node:stream';
import Docker from 'dockerode';
import type { RunningCommand, Transport } from '../../transports/transport.js';
import { MigrateError } from '../../transports/errors.js';

const engines = new WeakMap<Transport, Docker>();

/** The Docker daemon of the transport's host (one client per transport). */
export function dockerEngine(t: Transport): Docker {
  let engine = engines.get(t);
  if (!engine) {
    // docker-modem passes `agent` on to Node's HTTP client (its types do not list it).
    engine = t.isLocal ? new Docker() : new Docker({ protocol: 'http', host: 'docker', port: 80, agent: dialStdioAgent(t) } as Docker.DockerOptions);
    engines.set(t, engine);
  }
  return engine;
}

/** An HTTP agent whose connections are `docker system dial-stdio` commands on the transport's host. */
function dialStdioAgent(t: Transport): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  agent.createConnection = () => socketLike(t.spawn(['docker', 'system', 'dial-stdio'])) as never;
  return agent;
}

/** A command's stdin and stdout as one stream with the few socket methods Node's HTTP client calls. */
function socketLike(cmd: RunningCommand): Duplex {
  const stream = Duplex.from({ readable: cmd.stdout, writable: cmd.stdin });
  const noop = () => stream;
  Object.assign(stream, { setKeepAlive: noop, setNoDelay: noop, setTimeout: noop, ref: noop, unref: noop });
  // Closing its stdin ends dial-stdio (no kill: that would need the connection, maybe closing).
  stream.once('close', () => cmd.letGo());
  cmd.done.catch((e: unknown) => stream.destroy(e as Error));
  return stream;
}

/** What dockerode rejects with when the daemon answers with an error. */
interface EngineFailure { statusCode?: number; json?: { message?: string } | null; reason?: string; message?: string }

/** The daemon's HTTP status of a failed request (404: no such object), if it answered. */
export const engineStatus = (e: unknown): number | undefined => (e as EngineFailure | null)?.statusCode;

/**
 * Runs one Engine API request; a failure becomes a MigrateError naming the host and what was
 * asked (`what`, e.g. "create container web"), with the daemon's own message.
 */
export async function engineCall<T>(t: Transport, what: string, call: (docker: Docker) => Promise<T>, hint?: string): Promise<T> {
  try {
    return await call(dockerEngine(t));
  } catch (e) {
    if (e instanceof MigrateError) throw e;
    const f = e as EngineFailure;
    const said = f.json?.message ?? f.message ?? String(e);
    const reached = f.statusCode !== undefined;
    throw new MigrateError('DOCKER_API', `Docker refused to ${what}: ${said.trim()}`, {
      host: t.name,
      cause: e,
      hint: hint ?? (reached ? 'see the daemon\'s log there' : 'is dockerd running there, and may this user reach it (docker version)?'),
    });
  }
}

/** Like engineCall, but a 404 (no such container, image, network, volume) resolves to undefined. */
export async function engineFind<T>(t: Transport, what: string, call: (docker: Docker) => Promise<T>): Promise<T | undefined> {
  try {
    return await call(dockerEngine(t));
  } catch (e) {
    if (engineStatus(e) === 404) return undefined;
    return engineCall(t, what, () => Promise.reject(e));
  }
}
