/**
 * Where the CLI writes: results on stdout (human text, or one JSON object with --json),
 * warnings and progress on stderr, so scripts can parse stdout alone. Progress (the library's
 * events) is shown as lines, with live bars for transfers on a terminal (progress-view.ts), or,
 * with `--progress json`, as one JSON object per event and line.
 */
import type { DrainEvent, MigrateEvent } from '../src/index.js';
import { ProgressView, type ProgressMode } from './progress-view.js';

export class Output {
  json = false;
  private mode: ProgressMode;
  private view: ProgressView;

  constructor(
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  ) {
    this.mode = stderr.isTTY ? 'bar' : 'plain';
    this.view = new ProgressView(this.mode === 'bar' ? 'bar' : 'plain', stderr);
  }

  /** `bar` (the default on a terminal), `plain` (the default otherwise) or `json`. */
  set progressMode(mode: ProgressMode) {
    this.mode = mode;
    this.view = new ProgressView(mode === 'bar' ? 'bar' : 'plain', this.stderr);
  }

  text(s: string): void {
    this.view.interrupt();
    this.stdout.write(s.endsWith('\n') ? s : s + '\n');
  }
  result(obj: unknown): void {
    this.view.interrupt();
    this.stdout.write(JSON.stringify(obj, null, 2) + '\n');
  }
  warn(message: string): void {
    if (this.mode === 'json') this.stderr.write(`${JSON.stringify({ event: 'warning', message })}\n`);
    else this.line(`migrate: ${message}`);
  }
  /** Lines for the user that are not the result (on stderr, so stdout stays the result alone). */
  note(text: string): void {
    for (const l of text.split('\n')) this.line(l, true);
  }
  progress(message: string): void {
    this.line(`migrate: ${message}`);
  }
  event(e: MigrateEvent): void {
    if (this.mode === 'json') this.stderr.write(`${JSON.stringify({ event: e.kind, ...e, kind: undefined })}\n`);
    else if (e.kind === 'progress') this.view.show(e);
    else if (e.kind === 'warning') this.line(`migrate: ${e.host ? `${e.host}: ${e.message}` : e.message}`);
    else if (e.kind === 'step') this.progress(`${e.step}${e.host ? ` (${e.host})` : ''}${e.detail ? `: ${e.detail}` : ''}`);
    else this.progress(`${e.phase} took ${e.ms} ms`);
  }

  /** A line on stderr: above the bars while a drain's are drawn, else after ending a transfer's. */
  /** A drain's events: its own, and its containers' migration events tagged with the container. */
  drainEvent(e: DrainEvent | (MigrateEvent & { workload?: string })): void {
    if (this.mode === 'json') {
      this.stderr.write(`${JSON.stringify({ event: e.kind === 'drain' ? `drain-${e.event}` : e.kind, ...e, kind: undefined })}\n`);
      return;
    }
    if (e.kind === 'progress') return this.view.show(e);
    const who = 'workload' in e && e.workload ? `${e.workload}: ` : '';
    if (e.kind === 'drain') {
      if (e.event === 'planned') return this.line(`migrate: drain ${e.id ?? '(dry run)'}: ${e.plan.moves.filter((m) => m.to).length} to move, about ${(e.plan.est_total_ms / 1000).toFixed(1)} s`, true);
      if (e.event === 'started') return this.line(`migrate: ${e.name}: moving ${e.from} → ${e.to}`, true);
      if (e.event === 'stopping') return this.line(`migrate: drain: no further container starts: ${e.reason}`, true);
      return this.line(`migrate: ${e.name}: ${e.outcome}${e.freeze_ms !== null ? `, frozen ${e.freeze_ms} ms` : ''}${e.reason ? ` (${e.reason.split('\n')[0]})` : ''}`, true);
    }
    if (e.kind === 'warning') return this.line(`migrate: ${who}${e.host ? `${e.host}: ` : ''}${e.message}`, true);
    if (e.kind === 'step') return this.line(`migrate: ${who}${e.step}${e.host ? ` (${e.host})` : ''}${e.detail ? `: ${e.detail}` : ''}`, true);
    this.line(`migrate: ${who}${e.phase} took ${e.ms} ms`, true);
  }

  private line(s: string, keepBars = false): void {
    if (keepBars && this.view.log(s)) return;
    this.view.interrupt();
    this.stderr.write(`${s}\n`);
  }
}
