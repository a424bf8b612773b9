/**
 * Turns a byte count that grows in many small steps into progress events (events.ts): at most
 * one every PROGRESS_EVERY_MS, and a last one when it ends.
 */
import type { EventSink, ProgressEvent } from './events.js';

export const PROGRESS_EVERY_MS = 250;

export interface ProgressCounter {
  /** `n` more bytes went. */
  add(n: number): void;
  /** The last event (`done`), once. */
  end(): void;
}

export function progressCounter(emit: EventSink, what: ProgressEvent['what'], o: { host?: string; total?: number } = {}): ProgressCounter {
  let bytes = 0;
  let last = 0;
  let ended = false;
  const send = (done: boolean) => emit({ kind: 'progress', what, bytes, ...(o.host ? { host: o.host } : {}), ...(o.total ? { total: o.total } : {}), ...(done ? { done } : {}) });
  return {
    add(n) {
      bytes += n;
      const now = Date.now();
      if (!ended && now - last >= PROGRESS_EVERY_MS) {
        last = now;
        send(false);
      }
    },
    end() {
      if (ended) return;
      ended = true;
      send(true);
    },
  };
}
