/**
 * A transport that records what migrate asks of a host and when: every command (`exec`,
 * `spawn`), byte stream and forward, with its start and end on the controller's clock (epoch
 * ms, as memload's ticks). A benchmark passes it to migrate in place of the host's transport
 * and reads the timeline afterwards; nothing in the library changes for it.
 */
import type { Transport } from '../../src/index.js';
import { nowMs } from './docker-baseline.js';

export interface Call {
  host: string;
  /** `exec`, `spawn`, `openStream`, `forward`, `reverseForward`, `reverseStream`, `prime`. */
  how: string;
  /** What ran: a host script's name, else the command's first words; a stream's port. */
  what: string;
  argv?: readonly string[];
  start: number;
  /** When the command returned (a spawned one: exited), the stream opened, the forward stood. */
  end?: number;
  /** A spawned CRIU service (`--status-fd 1`): when it said it was ready (its first byte out). */
  ready?: number;
  exitCode?: number;
}

/** `bash -c BODY NAME args…` (a host script, transports/host-scripts/load.ts) is named NAME; other commands by their first three words. */
export function callName(argv: readonly string[]): string {
  if ((argv[0] === 'sh' || argv[0] === 'bash') && argv[1] === '-c' && argv[3] !== undefined) return argv[3];
  return argv.slice(0, 3).join(' ');
}

const TIMED = new Set(['exec', 'spawn', 'openStream', 'forward', 'reverseForward', 'reverseStream', 'prime']);

/** `t` with each of its calls appended to `calls` (its other members as they are). */
export function timedTransport(t: Transport, calls: Call[]): Transport {
  const record = (how: string, args: unknown[]): Call => {
    const argv = how === 'exec' || how === 'spawn' ? (args[0] as readonly string[]) : undefined;
    const call: Call = { host: t.name, how, what: argv ? callName(argv) : `${how} ${args.map(String).join(' ')}`.trim(), ...(argv ? { argv } : {}), start: nowMs() };
    calls.push(call);
    return call;
  };
  return new Proxy(t, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !TIMED.has(prop) || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const call = record(prop, args);
        const ended = (exitCode?: number) => {
          call.end = nowMs();
          if (exitCode !== undefined) call.exitCode = exitCode;
        };
        const result: unknown = value.apply(target, args);
        if (prop === 'spawn') {
          const cmd = result as ReturnType<Transport['spawn']>;
          // Only a status-fd service: a listener on any other stdout would set it flowing before its reader is there.
          if (call.argv?.includes('--status-fd')) cmd.stdout.once('data', () => { call.ready = nowMs(); });
          cmd.done.then((r) => ended(r.exitCode), () => ended());
        } else {
          (result as Promise<unknown>).then((r) => ended(prop === 'exec' ? (r as { exitCode: number }).exitCode : undefined), () => ended());
        }
        return result;
      };
    },
  });
}
