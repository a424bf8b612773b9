/** Text for the Markdown tables: seconds, spreads, table cells. */
import type { Spread } from './stats.js';

export const DASH = '–';

/** Milliseconds as seconds with two decimals. */
export const sec = (ms: number): string => (ms / 1e3).toFixed(2);

/** `median | min | max` in seconds (three table cells), dashes when nothing was measured. */
export const spreadCells = (s: Spread | undefined): string => (s ? `${sec(s.median)} | ${sec(s.min)} | ${sec(s.max)}` : `${DASH} | ${DASH} | ${DASH}`);

/** `median (min…max)` with a formatter for the numbers. */
export const spreadText = (s: Spread | undefined, f: (x: number) => string): string => (s ? `${f(s.median)} (${f(s.min)}…${f(s.max)})` : DASH);

/** A table cell: pipes would end the cell. */
export const cell = (text: string): string => text.replace(/\|/g, '\\|');
