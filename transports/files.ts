/** Whole-file reads and small writes through any transport (binary-safe). */
import { transportScript } from './host-scripts/index.js';
import type { Transport } from './transport.js';

export async function readFileVia(t: Transport, path: string): Promise<Buffer> {
  const cmd = t.spawn(['cat', '--', path]);
  cmd.stdin.end();
  const chunks: Buffer[] = [];
  cmd.stdout.on('data', (b: Buffer) => chunks.push(b));
  await cmd.done;
  return Buffer.concat(chunks);
}

/** Writes `data` into `path` with `mode`; `mtimeS`: its modification time, in seconds since the epoch. */
export async function writeFileVia(t: Transport, path: string, data: string | Buffer, mode = '0600', mtimeS?: number): Promise<void> {
  await t.exec(transportScript('write-file', path, mode, ...(mtimeS === undefined ? [] : [String(mtimeS)])), { input: data });
}
