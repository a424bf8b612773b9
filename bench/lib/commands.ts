/** Running commands from a benchmark: on a lab host through its transport, or on the controller. */
import { execFileSync } from 'node:child_process';
import type { Transport } from '../../src/index.js';

/** A command's trimmed stdout on a host (throws on a non-zero exit). */
export const out = async (t: Transport, argv: string[]): Promise<string> => (await t.exec(argv)).stdout.trim();

/** A command's trimmed stdout on the controller. */
export const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
