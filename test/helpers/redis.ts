/**
 * Real software for the lab tests: Redis from Debian's package (lab/image/redis.sh), in Docker
 * containers on the lab's hosts, and a client that talks to it the way a service's clients do:
 * through the published port, reconnecting to whichever host serves it.
 */
import { connect } from 'node:net';
import type { Transport } from '../../transports/transport.js';
import { redisCli } from '../../bench/lib/redis-client.js';

let n = 0;

export interface RedisContainer { name: string; port: number }

/** Starts Redis on `t` publishing a free port; `keys` × `valueBytes` of data (DEBUG POPULATE). */
export async function startRedis(t: Transport, keys = 0, valueBytes = 200): Promise<RedisContainer> {
  const name = `redis-${process.pid}-${++n}`;
  // The same host port on both hosts (the twin publishes what the source did): a random one, again while taken.
  let port = 0;
  for (let tries = 0; port === 0; tries++) {
    const p = 20000 + Math.floor(Math.random() * 20000);
    const r = await t.exec(['docker', 'run', '-d', '--name', name, '--label', 'migrate.lab=1', '--security-opt', 'seccomp=unconfined',
      '--publish', `${p}:6379`, process.env.MIGRATE_LAB_REDIS_IMAGE ?? 'migrate-redis:latest'], { allowFailure: true });
    if (r.exitCode === 0) port = p;
    else if (tries < 5 && /port is already allocated|address already in use/i.test(r.stderr)) await t.exec(['docker', 'rm', '-f', name], { allowFailure: true });
    else throw new Error(`docker run ${name} failed: ${r.stderr}`);
  }
  for (let i = 0; i < 100 && (await cli(t, name, 'PING').catch(() => '')) !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
  if (keys > 0) await cli(t, name, 'DEBUG', 'POPULATE', String(keys), 'key', String(valueBytes));
  return { name, port };
}

/** redis-cli inside the container. */
export const cli = redisCli;

export const digest = (t: Transport, name: string): Promise<string> => cli(t, name, 'DEBUG', 'DIGEST');

/** Bytes Redis says it holds. */
export async function usedMemory(t: Transport, name: string): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await cli(t, name, 'INFO', 'memory'))?.[1] ?? 0);
}

export { incrClient, type IncrLog } from '../../bench/lib/redis-client.js';

/** PING through the network (a published port), as a client outside the container: its first reply line, or what went wrong within 3 s. */
export function ping(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => s.write('PING\r\n'));
    const done = (what: string) => { clearTimeout(timer); s.destroy(); resolve(what); };
    const timer = setTimeout(() => done('no answer within 3 s'), 3000);
    s.on('data', (d: Buffer) => done(d.toString().split('\r\n')[0]!));
    s.on('error', (e: NodeJS.ErrnoException) => done(`error ${e.code ?? e.message}`));
  });
}
