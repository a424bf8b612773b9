/**
 * Pays sshd's first-megabytes cost on a connection before it matters. OpenSSH's sshd spends about
 * a second of CPU on the first few MiB a connection carries toward it, then ~5 ms per MiB (lab,
 * OpenSSH 9.2: 0.9–1.3 s of sshd CPU for a connection's first 32 MiB, 0.15 s for each later
 * 32 MiB; 4 MiB first already paid most of it; data flowing from the host shows nothing of the kind).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RunningCommand } from '../transport.js';

/** What is pushed toward the host. */
export const PRIME_BYTES = 16 << 20;

/** Pushes PRIME_BYTES into `sink` (a remote `cat > /dev/null`) and waits for it to end. */
export async function primeThrough(sink: RunningCommand): Promise<void> {
  sink.stdout.resume();
  const chunk = Buffer.alloc(1 << 20);
  const chunks = function* () {
    for (let sent = 0; sent < PRIME_BYTES; sent += chunk.length) yield chunk;
  };
  await Promise.all([pipeline(Readable.from(chunks()), sink.stdin), sink.done]);
}
