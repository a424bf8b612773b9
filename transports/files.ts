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

export async function writeFileVia(t: Transport, path: string, data: string | Buffer, mode = '0600'): Promise<void> {
  await t.exec(transportScript('write-file', path, mode), { input: data });
}
