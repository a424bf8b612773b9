/**
 * What the library reports while it works. It never prints: callers (the CLI, tests, benchmarks)
 * receive these entries and decide how to show them.
 */
export type MigrateEvent =
  | { kind: 'warning'; message: string; host?: string }
  | { kind: 'step'; step: string; host?: string; detail?: string }
  | { kind: 'phase'; phase: string; ms: number };

export type EventSink = (event: MigrateEvent) => void;

export const ignoreEvents: EventSink = () => {};
