/**
 * The shell scripts the transports themselves run on a host: one `NAME.sh` in this folder each,
 * whose header says what it takes, prints and exits with.
 */
import { scriptRunner } from './load.js';

export const TRANSPORT_SCRIPTS = ['exec-reporting-pid', 'kill-group', 'run-to-end', 'write-file'] as const;

export type TransportScript = (typeof TRANSPORT_SCRIPTS)[number];

/** The argv that runs a transport script on a host: `[shell, '-c', body, name, ...args]`. */
export const transportScript: (name: TransportScript, ...args: string[]) => string[] = scriptRunner(import.meta.url);
