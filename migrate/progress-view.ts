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
const LABEL: Record<ProgressEvent['what'], string> = { memory: 'memory', transfer: 'images', postcopy: 'memory (post-copy)', drain: 'drain' };
/** Plain mode, total unknown: a line this often. */
const PLAIN_EVERY_MS = 3000;

/** A progress event, from a drain tagged with its container. */
export type TaggedProgress = ProgressEvent & { workload?: string };

interface Track { label: string; started: number; lastLine: number; quarter: number; bar?: cliProgress.SingleBar }

/**
 * One bar (or line series) per transfer: a drain moving two containers at a time shows each
 * one's transfer and the drain's own bar together, stacked (cli-progress MultiBar).
 */
export class ProgressView {
  private multi?: cliProgress.MultiBar;
  private readonly tracks = new Map<string, Track>();

  constructor(private readonly mode: 'bar' | 'plain', private readonly stream: NodeJS.WritableStream) {}

  show(e: TaggedProgress): void {
    const key = `${e.workload ?? ''}/${e.what}`;
    const track = this.tracks.get(key) ?? this.begin(key, e);
    if (this.mode === 'bar') this.showBar(track, e);
    else this.showPlain(track, e);
    if (e.done) this.finish(key);
  }

  /** A line above the bars while some are drawn (false: none is, write it yourself). */
  log(line: string): boolean {
    if (!this.multi) return false;
    this.multi.log(`${line}\n`);
    return true;
  }

  /** Ends the bars in progress, each on its own line (and writes what log() holds). */
  interrupt(): void {
    if (!this.multi) return;
    this.multi.update();
    this.multi.stop();
    this.multi = undefined;
    this.tracks.clear();
  }

  private begin(key: string, e: TaggedProgress): Track {
    const track: Track = { label: `${e.workload ? `${e.workload}: ` : ''}${LABEL[e.what]}`, started: Date.now(), lastLine: Date.now(), quarter: 0 };
    this.tracks.set(key, track);
    if (this.mode === 'bar') {
      this.multi ??= new cliProgress.MultiBar({ stream: this.stream, hideCursor: false, clearOnComplete: false, etaBuffer: 20, fps: 8 }, cliProgress.Presets.shades_classic);
      track.bar = this.multi.create(e.total ?? e.bytes, 0, this.payload(track, e), {
        format: `migrate: ${track.label} [{bar}] {done} of {all} MiB, {rate} MB/s, ETA {eta_formatted}`,
      });
    }
    return track;
  }

  private payload(track: Track, e: ProgressEvent): Record<string, string> {
    const s = Math.max(0.001, (Date.now() - track.started) / 1000);
    return { done: mib(e.bytes), all: e.total ? mib(Math.max(e.total, e.bytes)) : '?', rate: (e.bytes / s / 1e6).toFixed(0) }; // a tar stream's headers add a little
  }

  private showBar(track: Track, e: ProgressEvent): void {
    if (!track.bar) return;
    if (e.total === undefined || e.bytes > e.total) track.bar.setTotal(Math.max(e.bytes, e.total ?? 0));
    track.bar.update(e.bytes, this.payload(track, e));
  }

  private showPlain(track: Track, e: ProgressEvent): void {
    const quarter = e.total ? Math.min(4, Math.floor((4 * e.bytes) / e.total)) : 0;
    const due = e.total ? quarter > track.quarter : Date.now() - track.lastLine >= PLAIN_EVERY_MS;
    if (!due && !e.done) return;
    track.quarter = quarter;
    track.lastLine = Date.now();
    const p = this.payload(track, e);
    const of = e.total ? ` of ${p.all} MiB (${Math.min(100, Math.round((100 * e.bytes) / e.total))} %)` : ' MiB';
    this.stream.write(`migrate: ${track.label}: ${p.done}${e.total ? ' MiB' : ''}${of}, ${p.rate} MB/s${e.done ? ', done' : ''}\n`);
  }

  /** A finished transfer: drawn once more as it ended, then its bar makes room (the last one stays). */
  private finish(key: string): void {
    const track = this.tracks.get(key);
    this.tracks.delete(key);
    if (!this.multi || !track?.bar) return;
    if (this.tracks.size === 0) return this.interrupt();
    this.multi.update();
    this.multi.remove(track.bar);
  }
}
