/**
 * How the workload is frozen and its memory reaches the target: the part of the pipeline that
 * differs between an eager freeze (the dump carries the memory) and a lazy one (the memory stays
 * on the source and is pulled after the restore). run.ts drives either through this interface.
 */
export interface Freeze {
  /** What the checkpoint step says. */
  readonly detail: string;
  /** Whether the target restores lazily (memory filled in after it resumed). */
  readonly lazyRestore: boolean;
  /** Before the freeze: what must listen before the dump starts (the target's page server). */
  open(): Promise<void>;
  /**
   * Stops the workload and dumps it; `stopping` is called right before. Lazy: `serving` gets the
   * port its page server will listen on before the dump starts (the source's guard hangs up on
   * it should migrate die from then on).
   */
  dump(stopping: () => void, serving?: (port: number) => Promise<void>): Promise<void>;
  /** After a failed dump (or open): stops the helpers; returns the error that explains it best. */
  failedDump(e: unknown, frozen: boolean): Promise<unknown>;
  /** After the dump, while frozen: the memory bytes that moved during it, and images the stream leaves out. */
  collect(): Promise<{ pageBytes: number; exclude?: (name: string) => boolean }>;
  /** Lazy: the loopback port on the source where its CRIU serves the memory (after the dump). */
  servingPort(): number | undefined;
  /** Right before the restore: starts the daemon that will fill the memory, if any. */
  beforeRestore(): Promise<void>;
  /** After the restore (which returned at `restoredAt`): waits until the memory is in place and records the window. */
  window(restoredAt: number): Promise<void>;
  /** After a failure past the dump: stops every helper (the source's dump included). */
  abort(): Promise<void>;
}
