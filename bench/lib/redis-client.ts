/**
 * A client of a Redis service as its users run one: one INCR per `everyMs` through the published
 * port, one at a time, with a reply timeout; on an error, a timeout or a closed connection it
 * reconnects, trying the hosts in turn. What it records is what a user of the service sees: the
 * replies (each an acknowledged write) and the longest time between two of them.
 * Shared by the lab tests (test/helpers/redis.ts) and the service benchmark (bench/service.ts).
 */
import { connect, type Socket } from 'node:net';
import type { Transport } from '../../transports/transport.js';

export interface IncrLog {
  /** Every reply the client got, in order. */
  acked: number[];
  /** The longest time between two successful replies, in ms, and when it began (epoch ms). */
  longestGapMs: number;
  longestGapFrom: number;
  reconnects: number;
  /** Why each connection ended (epoch ms, the host it was to): `no reply` (the reply timeout), `connection lost` (a reset or close), `connect failed`. */
  errors: Array<{ at: number; host: string; why: string }>;
}

/** A reply later than this counts as a lost connection, as a service's client with a timeout sees it. */
const REPLY_TIMEOUT_MS = 1000;

/**
 * One INCR per `everyMs` through the published port, one at a time, as a service's client does:
 * on an error or a closed connection it reconnects, trying the hosts in turn. Stop with stop().
 */
export function incrClient(hosts: string[], port: number, key: string, everyMs = 1, replyTimeoutMs = REPLY_TIMEOUT_MS): { acked: () => number; stop: () => Promise<IncrLog> } {
  const log: IncrLog = { acked: [], longestGapMs: 0, longestGapFrom: 0, reconnects: 0, errors: [] };
  let running = true;
  let lastOk = Date.now();
  let at = 0;
  const loop = (async () => {
    while (running) {
      const host = hosts[at % hosts.length]!;
      const sock = await open(host, port).catch(() => undefined);
      if (!sock) {
        log.errors.push({ at: Date.now(), host, why: 'connect failed' });
        at++; log.reconnects++; await new Promise((r) => setTimeout(r, 20)); continue;
      }
      try {
        while (running) {
          const v = await request(sock, `INCR ${key}\r\n`, replyTimeoutMs);
          const now = Date.now();
          if (now - lastOk > log.longestGapMs) {
            log.longestGapMs = now - lastOk;
            log.longestGapFrom = lastOk;
          }
          lastOk = now;
          log.acked.push(v);
          await new Promise((r) => setTimeout(r, everyMs));
        }
      } catch (e) {
        log.errors.push({ at: Date.now(), host, why: e instanceof Error ? e.message : String(e) });
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

/**
 * One request, one integer reply (":N\r\n"); rejects on an error reply, a reset, a close or no
 * reply in time (a connection through docker-proxy to a container that is gone never resets).
 */
function request(s: Socket, line: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(() => reject(new Error('no reply'))), timeoutMs);
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

/**
 * Acknowledged INCRs the service no longer holds. Each acknowledged reply is a new, higher value
 * when nothing is lost; a reply at or below the one before means the counter went back (the
 * writes from that value up to the highest acknowledged are gone, even though later INCRs count
 * past them again), and acknowledged values above the counter's final value are gone too.
 */
export function lostAcknowledged(acked: number[], final: number): number {
  let lost = 0;
  let high = -Infinity;
  for (let i = 0; i < acked.length; i++) {
    const v = acked[i]!;
    if (i > 0 && v <= acked[i - 1]!) lost += high - v + 1;
    high = Math.max(high, v);
  }
  return lost + Math.max(0, high - final);
}

/** redis-cli inside the container `name` on `t`: its reply, trimmed. */
export async function redisCli(t: Transport, name: string, ...args: string[]): Promise<string> {
  return (await t.exec(['docker', 'exec', name, 'redis-cli', ...args])).stdout.trim();
}
