/** Which file names a checkpoint may carry, on the sending and the receiving side alike. */

/** Names the sender accepts: relative, no `..`, no empty or absolute parts, no odd characters. */
export function safeRelativeName(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\0') || name.includes('\n') || name.includes('\\')) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
