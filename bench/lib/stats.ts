/** Small statistics over repeated runs, and a lap timer. */

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Spread { median: number; min: number; max: number; n: number }

/** Median, min and max; undefined for no values (no successful run). */
export function spreadOf(xs: number[]): Spread | undefined {
  return xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : undefined;
}

/** Each call returns the whole milliseconds since the previous call (or since the timer was made). */
export function stopwatch(): () => number {
  let t = performance.now();
  return () => {
    const now = performance.now();
    const ms = Math.round(now - t);
    t = now;
    return ms;
  };
}

/** Runs fn and returns its result with its wall-clock duration in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}
