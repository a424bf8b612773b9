/**
 * How the workload is frozen and its memory reaches the target: the part of the pipeline that
 * differs between an eager freeze (the dump carries the memory) and a lazy one (the memory stays
 * on the source and is pulled after the restore). run.ts drives either through this interface.
 */
import type { MigrateError } from '../../../transports/errors.js';
import type { Endpoint } from '../../transfer/page-relay.js';

export interface Freeze {
  /** What the checkpoint step says. */
  readonly detail: string;
  /** Whether the target restores lazily (memory filled in after it resumed). */
  readonly lazyRestore: boolean;
  /** Before the freeze: what must listen before the dump starts (the target's page server). */
  open(): Promise<void>;
  /**
   * Stops the workload and dumps it; `stopping` is called right before. Lazy: `serving` gets the
   * address and port its page server will listen on before the dump starts (the source's guard hangs up on
   * it should migrate die from then on). `cut` ends the freeze as if its deadline had passed, for a
   * dump known to be stuck (the command is left to the source's guard).
   */
  dump(stopping: () => void, serving?: (at: Endpoint) => Promise<void>, cut?: (why: MigrateError) => void): Promise<void>;
  /** After a failed dump (or open): stops the helpers; returns the error that explains it best. */
  failedDump(e: unknown, frozen: boolean): Promise<unknown>;
  /** After the dump, while frozen: the memory bytes that moved during it, and images the stream leaves out. */
  collect(): Promise<{ pageBytes: number; exclude?: (name: string) => boolean }>;
  /** Lazy: where on the source its CRIU serves the memory (after the dump). */
  serving(): Endpoint | undefined;
  /** Right before the restore: starts the daemon that will fill the memory, if any. */
  beforeRestore(): Promise<void>;
  /** After the restore (which returned at `restoredAt`): waits until the memory is in place and records the window. */
  window(restoredAt: number): Promise<void>;
  /** After a failure past the dump: stops every helper (the source's dump included). */
  abort(): Promise<void>;
}
