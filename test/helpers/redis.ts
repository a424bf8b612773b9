/**
 * Real software for the lab tests: Redis from Debian's package (lab/image/redis.sh), in Docker
 * containers on the lab's hosts, and a client that talks to it the way a service's clients do:
 * through the published port, reconnecting to whichever host serves it.
 */
import { connect, type Socket } from 'node:net';
import type { Transport } from '../../transports/transport.js';

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
export async function cli(t: Transport, name: string, ...args: string[]): Promise<string> {
  return (await t.exec(['docker', 'exec', name, 'redis-cli', ...args])).stdout.trim();
}

export const digest = (t: Transport, name: string): Promise<string> => cli(t, name, 'DEBUG', 'DIGEST');

/** Bytes Redis says it holds. */
export async function usedMemory(t: Transport, name: string): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await cli(t, name, 'INFO', 'memory'))?.[1] ?? 0);
}

export interface IncrLog {
  /** Every reply the client got, in order. */
  acked: number[];
  /** The longest time between two successful replies, in ms. */
  longestGapMs: number;
  reconnects: number;
}

/**
 * One INCR per `everyMs` through the published port, one at a time, as a service's client does:
 * on an error or a closed connection it reconnects, trying the hosts in turn. Stop with stop().
 */
export function incrClient(hosts: string[], port: number, key: string, everyMs = 1): { acked: () => number; stop: () => Promise<IncrLog> } {
  const log: IncrLog = { acked: [], longestGapMs: 0, reconnects: 0 };
  let running = true;
  let lastOk = Date.now();
  let at = 0;
  const loop = (async () => {
    while (running) {
      const sock = await open(hosts[at % hosts.length]!, port).catch(() => undefined);
      if (!sock) { at++; log.reconnects++; await new Promise((r) => setTimeout(r, 20)); continue; }
      try {
        while (running) {
          const v = await request(sock, `INCR ${key}\r\n`);
          const now = Date.now();
          log.longestGapMs = Math.max(log.longestGapMs, now - lastOk);
          lastOk = now;
          log.acked.push(v);
          await new Promise((r) => setTimeout(r, everyMs));
        }
      } catch {
        at++;
        log.reconnects++;
      } finally {
        sock.destroy();
      }
    }
  })();
  return { acked: () => log.acked.length, stop: async () => { running = false; await loop; return log; } };
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: 2000 });
    s.once('connect', () => { s.setTimeout(0); resolve(s); });
    s.once('error', reject);
    s.once('timeout', () => { s.destroy(); reject(new Error('connect timeout')); });
  });
}

/** A reply later than this counts as a lost connection, as a service's client with a timeout sees it. */
const REPLY_TIMEOUT_MS = 1000;

/**
 * One request, one integer reply (":N\r\n"); rejects on an error reply, a reset, a close or no
 * reply in time (a connection through docker-proxy to a container that is gone never resets).
 */
function request(s: Socket, line: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(() => reject(new Error('no reply'))), REPLY_TIMEOUT_MS);
    const done = (f: () => void) => { clearTimeout(timer); s.off('data', onData); s.off('error', onEnd); s.off('close', onEnd); f(); };
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const m = /^:(-?\d+)\r\n/.exec(buf);
      if (m) done(() => resolve(Number(m[1])));
      else if (/\r\n/.test(buf)) done(() => reject(new Error(`unexpected reply ${JSON.stringify(buf)}`)));
    };
    const onEnd = () => done(() => reject(new Error('connection lost')));
    s.on('data', onData);
    s.once('error', onEnd);
    s.once('close', onEnd);
    s.write(line);
  });
}
