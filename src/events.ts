/**
 * What the library reports while it works. It never prints: callers (the CLI, tests, benchmarks)
 * receive these entries and decide how to show them.
 */
export type MigrateEvent =
  | { kind: 'warning'; message: string; host?: string }
  | { kind: 'step'; step: string; host?: string; detail?: string }
  | { kind: 'phase'; phase: string; ms: number }
  | ProgressEvent;

/**
 * How far a long transfer is, a few times a second and once at its end (`done`): the memory
 * going to the target's page server during the dump (`memory`: bytes through the relay; `total`
 * the workload's resident size, an estimate), the images
 * while frozen (`transfer`: uncompressed bytes sent), the memory pulled after a post-copy
 * restore (`postcopy`: bytes through the relay; `total` is the workload's resident size, an
 * estimate), a drain's moves (`drain`: resident bytes of the containers moved so far, of all it
 * plans to move). `total` is absent when unknown.
 */
export interface ProgressEvent {
  kind: 'progress';
  what: 'memory' | 'transfer' | 'postcopy' | 'drain';
  host?: string;
  bytes: number;
  total?: number;
  done?: boolean;
}

export type EventSink = (event: MigrateEvent) => void;

export const ignoreEvents: EventSink = () => {};
