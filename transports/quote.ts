/**
 * POSIX shell quoting for commands that travel as one string (SSH has no argv). Every argument
 * is single-quoted, so container names, paths and values can never inject shell syntax.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new TypeError(`Argument contains a NUL byte: ${JSON.stringify(arg)}`);
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function quoteCommand(argv: readonly string[], env: Record<string, string> = {}): string {
  const assignments = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TypeError(`Invalid environment variable name: ${JSON.stringify(k)}`);
    return `${k}=${quoteArg(v)}`;
  });
  const words = argv.map(quoteArg);
  return (assignments.length > 0 ? ['env', ...assignments, ...words] : words).join(' ');
}
