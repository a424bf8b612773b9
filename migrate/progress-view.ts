/**
 * How the CLI shows the library's progress events (src/events.ts) on stderr: a live bar on a
 * terminal (cli-progress: bytes, rate, ETA), a plain line at each quarter (or every few seconds
 * when the total is unknown) otherwise, or nothing here when every event goes out as a JSON line
 * (`--progress json`, handled by Output).
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../src/index.js';

export type ProgressMode = 'bar' | 'plain' | 'json';
export const PROGRESS_MODES: readonly ProgressMode[] = ['bar', 'plain', 'json'];

const MIB = 2 ** 20;
const mib = (b: number) => (b / MIB).toFixed(1);
const LABEL: Record<ProgressEvent['what'], string> = { transfer: 'images', postcopy: 'memory (post-copy)' };
/** Plain mode, total unknown: a line this often. */
const PLAIN_EVERY_MS = 3000;

export class ProgressView {
  private bar?: cliProgress.SingleBar;
  private current?: { what: ProgressEvent['what']; started: number; lastLine: number; quarter: number };

  constructor(private readonly mode: 'bar' | 'plain', private readonly stream: NodeJS.WritableStream) {}

  show(e: ProgressEvent): void {
    if (this.current?.what !== e.what) this.begin(e);
    if (this.mode === 'bar') this.showBar(e);
    else this.showPlain(e);
    if (e.done) this.finish();
  }

  /** Before any other line: a bar in progress is ended on its own line. */
  interrupt(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
      this.current = undefined;
    }
  }

  private begin(e: ProgressEvent): void {
    this.interrupt();
    this.current = { what: e.what, started: Date.now(), lastLine: Date.now(), quarter: 0 };
    if (this.mode !== 'bar') return;
    this.bar = new cliProgress.SingleBar({
      stream: this.stream, hideCursor: false, clearOnComplete: false, etaBuffer: 20, fps: 8,
      format: `migrate: ${LABEL[e.what]} [{bar}] {done} of {all} MiB, {rate} MB/s, ETA {eta_formatted}`,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(e.total ?? e.bytes, 0, this.payload(e));
  }

  private payload(e: ProgressEvent): Record<string, string> {
    const s = Math.max(0.001, (Date.now() - this.current!.started) / 1000);
    return { done: mib(e.bytes), all: e.total ? mib(Math.max(e.total, e.bytes)) : '?', rate: (e.bytes / s / 1e6).toFixed(0) }; // a tar stream's headers add a little
  }

  private showBar(e: ProgressEvent): void {
    if (!this.bar) return;
    if (e.total === undefined || e.bytes > e.total) this.bar.setTotal(Math.max(e.bytes, e.total ?? 0));
    this.bar.update(e.bytes, this.payload(e));
  }

  private showPlain(e: ProgressEvent): void {
    const c = this.current!;
    const quarter = e.total ? Math.min(4, Math.floor((4 * e.bytes) / e.total)) : 0;
    const due = e.total ? quarter > c.quarter : Date.now() - c.lastLine >= PLAIN_EVERY_MS;
    if (!due && !e.done) return;
    c.quarter = quarter;
    c.lastLine = Date.now();
    const p = this.payload(e);
    const of = e.total ? ` of ${p.all} MiB (${Math.min(100, Math.round((100 * e.bytes) / e.total))} %)` : ' MiB';
    this.stream.write(`migrate: ${LABEL[e.what]}: ${p.done}${e.total ? ' MiB' : ''}${of}, ${p.rate} MB/s${e.done ? ', done' : ''}\n`);
  }

  private finish(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.current = undefined;
  }
}
