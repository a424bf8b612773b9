/** The SSH flags every command shares, turned into transport options. */
import type { SshOptions } from '../src/index.js';

export const SSH_FLAGS = {
  identity: { type: 'string', short: 'i', multiple: true },
  'known-hosts': { type: 'string', multiple: true },
  'insecure-accept-host-key': { type: 'boolean' },
} as const;

export function sshOptions(values: { identity?: string[]; 'known-hosts'?: string[]; 'insecure-accept-host-key'?: boolean }): SshOptions {
  return {
    identityFiles: values.identity,
    knownHostsFiles: values['known-hosts'],
    insecureIgnoreHostKey: values['insecure-accept-host-key'] ?? false,
  };
}
