/**
 * Where the CLI writes: results on stdout (human text, or one JSON object with --json),
 * warnings and progress on stderr, so scripts can parse stdout alone. Progress (the library's
 * events) is shown as lines, with live bars for transfers on a terminal (progress-view.ts), or,
 * with `--progress json`, as one JSON object per event and line.
 */
import type { MigrateEvent } from '../src/index.js';
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

  private line(s: string): void {
    this.view.interrupt();
    this.stderr.write(`${s}\n`);
  }
}
