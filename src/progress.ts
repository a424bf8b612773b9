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

/**
 * Feeds a counter from a total that can only be read now and then (bytes a page server wrote on
 * another host): reads it every `everyMs` and adds what grew. `stop(last)` ends the polling
 * (reading once more when `last`: the total is final now) and resolves with the last total read.
 */
export function pollGrowth(read: () => Promise<number | undefined>, add: (n: number) => void, everyMs = PROGRESS_EVERY_MS * 2): { stop(last?: boolean): Promise<number> } {
  let seen = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const once = async () => {
    const now = await read().catch(() => undefined);
    if (now !== undefined && now > seen) {
      add(now - seen);
      seen = now;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await once();
      if (stopped) break;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, everyMs).unref();
      });
    }
  })();
  return {
    async stop(last = false) {
      stopped = true;
      wake?.();
      await loop;
      if (last) await once();
      return seen;
    },
  };
}
