/** Picks the lines of a CRIU log that explain a failure. */
const MAX_LINES = 12;

export function criuErrorLines(log: string): string[] {
  const lines = log.split('\n').filter((l) => /\bError\b|\(error\)|^Error/.test(l) && !/RLIMIT_NOFILE/.test(l));
  return lines.slice(-MAX_LINES).map((l) => l.trim());
}
