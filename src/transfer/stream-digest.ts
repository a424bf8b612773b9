/**
 * Verifies what crossed the wire by one digest of the uncompressed tar stream, taken at both ends
 * while the stream flows: the sender hashes the tar bytes it compresses, the receiver hashes what
 * `zstd -d` hands to `tar -x` (`tee` into a FIFO read by `sha256sum`), and the controller compares
 * the two. The check costs no pass of its own after the transfer, so it adds nothing to a freeze
 * beyond the CPU it shares with the stream; a per-file `sha256sum -c` afterwards cost 0.65 s per
 * 256 MiB on the lab hosts (bench/results/pipeline.md).
 *
 * The hosts' ends are src/host-scripts/send-files.sh, send-tree.sh and receive-tar.sh.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import { MigrateError } from '../../transports/errors.js';

/** The digest a host script printed as the last line of its stderr ("sha256 HEX"), if any. */
export const digestOf = (stderr: string): string | undefined => /sha256 ([0-9a-f]{64})\s*$/.exec(stderr)?.[1];

/** The controller's side of the same digest. */
export const streamHash = (): Hash => createHash('sha256');

/** Passes bytes through unchanged and feeds them to `hash` on the way. */
export function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
}

/** The digests of what was sent and what arrived must agree; `what` says what arrived corrupted. */
export function checkDigests(host: string, what: string, sent: string | undefined, received: string | undefined): void {
  if (sent && sent === received) return;
  throw new MigrateError('TRANSFER_FAILED', `${what} arrived corrupted (checksum mismatch)`, {
    host,
    stderr: `sent sha256 ${sent ?? '?'}, received ${received ?? '?'}`,
    hint: 'nothing was restored from them; retry the migration, and check the link if it happens again',
  });
}
