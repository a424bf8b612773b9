/**
 * The first host key a transport accepted from its host, held for the transport's life: every
 * later connection (a reconnect after a lost link) must meet the same key. known_hosts cannot
 * guard this with --insecure-accept-host-key, and even with known_hosts a run never changes
 * horses mid-way: whoever takes over the address between two connections is refused.
 */
export type PinVerdict =
  /** No key pinned yet: this one will be, once accepted. */
  | { status: 'first' }
  | { status: 'same' }
  | { status: 'changed'; pinned: Buffer };

/** Decides about a presented key given the pinned one (if any). */
export function checkPin(pinned: Buffer | undefined, presented: Buffer): PinVerdict {
  if (pinned === undefined) return { status: 'first' };
  return pinned.equals(presented) ? { status: 'same' } : { status: 'changed', pinned };
}

export class HostKeyPin {
  private key?: Buffer;

  check(presented: Buffer): PinVerdict {
    return checkPin(this.key, presented);
  }

  /** Called once a key was accepted; the first one stays. */
  accept(key: Buffer): void {
    this.key ??= Buffer.from(key);
  }
}
