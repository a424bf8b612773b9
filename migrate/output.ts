/**
 * Where the CLI writes: results on stdout (human text, or one JSON object with --json),
 * warnings and progress on stderr, so scripts can parse stdout alone.
 */
import type { MigrateEvent } from '../src/index.js';

export class Output {
  json = false;
  constructor(
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  text(s: string): void {
    this.stdout.write(s.endsWith('\n') ? s : s + '\n');
  }
  result(obj: unknown): void {
    this.stdout.write(JSON.stringify(obj, null, 2) + '\n');
  }
  warn(message: string): void {
    this.stderr.write(`migrate: ${message}\n`);
  }
  progress(message: string): void {
    this.stderr.write(`migrate: ${message}\n`);
  }
  event(e: MigrateEvent): void {
    if (e.kind === 'warning') this.warn(e.host ? `${e.host}: ${e.message}` : e.message);
    else if (e.kind === 'step') this.progress(`${e.step}${e.host ? ` (${e.host})` : ''}${e.detail ? `: ${e.detail}` : ''}`);
    else this.progress(`${e.phase} took ${e.ms} ms`);
  }
}
