/**
 * TCP sockets as the kernel lists them in /proc/PID/net/tcp and tcp6 (one table per network
 * namespace): addresses, state and the socket's inode, which ties it to the process holding it.
 */

/** The kernel's TCP states (include/net/tcp_states.h), as /proc/net/tcp numbers them. */
export const TCP_STATES: Readonly<Record<number, string>> = {
  1: 'established', 2: 'syn-sent', 3: 'syn-recv', 4: 'fin-wait1', 5: 'fin-wait2', 6: 'time-wait',
  7: 'close', 8: 'close-wait', 9: 'last-ack', 10: 'listen', 11: 'closing',
};

/**
 * States in which CRIU treats a socket as a connection (criu/sk-inet.c, can_dump_inet_sk): it
 * refuses to dump one without --tcp-established or --tcp-close. LISTEN and CLOSE sockets dump as
 * they are; TIME_WAIT and SYN_RECV sockets belong to no process.
 */
export const CONNECTED_STATES: ReadonlySet<string> = new Set(['established', 'syn-sent', 'fin-wait1', 'fin-wait2', 'close-wait', 'last-ack', 'closing']);

export interface TcpSocket {
  local: string;
  remote: string;
  state: string;
  inode: number;
  /** For a listening socket: connections waiting in its accept queue. */
  rxQueue: number;
}

/** "0100007F:1F90" (IPv4, little-endian words) or 32 hex digits + port (IPv6) → "127.0.0.1:8080" / "[::1]:8080". */
export function decodeAddress(hex: string): string {
  const [addr = '', portHex = '0'] = hex.split(':');
  const port = parseInt(portHex, 16);
  const words = addr.match(/.{8}/g) ?? [];
  // Each 32-bit word is in the host's (little-endian) byte order.
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return `${bytes.join('.')}:${port}`;
  const v4mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4mapped) return `${bytes.slice(12).join('.')}:${port}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `[${compressIpv6(groups)}]:${port}`;
}

function compressIpv6(groups: string[]): string {
  // The longest run of two or more zero groups becomes "::".
  let start = -1;
  let len = 0;
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > len && j - i >= 2) [start, len] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (start < 0) return groups.join(':');
  return `${groups.slice(0, start).join(':')}::${groups.slice(start + len).join(':')}`;
}

/** The rows of one or more /proc/net/tcp{,6} tables (header lines are skipped). */
export function parseTcpTable(text: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) continue;
    const [, rx = '0'] = f[4]!.split(':');
    out.push({
      local: decodeAddress(f[1]!),
      remote: decodeAddress(f[2]!),
      state: TCP_STATES[parseInt(f[3]!, 16)] ?? `state-${f[3]}`,
      inode: Number(f[9]),
      rxQueue: parseInt(rx, 16),
    });
  }
  return out;
}
