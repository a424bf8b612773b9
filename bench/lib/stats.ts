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

/** The numbers among xs (undefined: a run that did not measure it). */
export const measured = (xs: Array<number | undefined>): number[] => xs.filter((x): x is number => x !== undefined);

/** The median of the measured values; undefined when there are none. */
export const medianOf = (xs: Array<number | undefined>): number | undefined => spreadOf(measured(xs))?.median;

/** To one decimal place (ms figures in the results). */
export const round1 = (x: number): number => Math.round(x * 10) / 10;

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
