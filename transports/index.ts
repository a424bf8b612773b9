/** Picks the transport for a host given as `local` or `ssh://[user@]host[:port]`. */
import { LocalTransport } from './local.js';
import type { SshOptions } from './ssh/destination.js';
import { SshTransport } from './ssh/ssh-transport.js';
import type { Transport } from './transport.js';
import { MigrateError } from './errors.js';

export type { Transport, ExecOptions, ExecResult, RunningCommand, Forward, ReverseForward } from './transport.js';
export { LocalTransport } from './local.js';
export { SshTransport } from './ssh/ssh-transport.js';
export type { SshOptions } from './ssh/destination.js';

export function openTransport(where: string | undefined, ssh: SshOptions = {}, warn: (m: string) => void = () => {}): Transport {
  if (where === undefined || where === 'local' || where === '') return new LocalTransport();
  if (where.startsWith('ssh://')) return new SshTransport(where, ssh, warn);
  throw new MigrateError('BAD_INPUT', `unknown host "${where}"`, {
    hint: 'give a host as ssh://[user@]host[:port], or "local" for this machine',
  });
}
