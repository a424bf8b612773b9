/**
 * The manifest that travels with a checkpoint: one SHA-256 per file, in `sha256sum` format, so
 * the receiving host can verify the images with coreutils before anything is restored.
 */
export type Manifest = Map<string, string>; // relative path -> hex sha256

export function manifestText(m: Manifest): string {
  return [...m].map(([name, sum]) => `${sum}  ${name}`).join('\n') + '\n';
}

/** Names the sender accepts: relative, no `..`, no empty or absolute parts, no odd characters. */
export function safeRelativeName(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\0') || name.includes('\n') || name.includes('\\')) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
