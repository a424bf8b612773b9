# A local user racing migrate for CRIU's page server port (issue 18, item 1): it watches
# /proc/net/tcp for new listeners on an address ($2, default 127.0.0.1), connects to each at
# once (taking the page server's one connection), then binds the same port itself to catch the
# dump's connection and read whatever it sends. Leaves the first $3 new listeners alone (default
# 0: a direct page channel's probe comes before its page server). Prints {"hits": [ports],
# "received": bytes} after $1 seconds.
import json, socket, sys, time

deadline = time.time() + float(sys.argv[1])
address = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'
skip = int(sys.argv[3]) if len(sys.argv) > 3 else 0
# /proc/net/tcp writes an IPv4 address as the hex of its bytes in host (little-endian) order.
hexaddr = socket.inet_aton(address)[::-1].hex().upper() + ':'


def listening():
    ports = set()
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if p[3] == '0A' and p[1].startswith(hexaddr):
                ports.add(int(p[1].split(':')[1], 16))
    return ports


seen = listening()
hits, received = [], 0
while time.time() < deadline:
    for port in sorted(listening() - seen):
        seen.add(port)
        if not 20000 <= port < 50000:
            continue
        if skip > 0:
            skip -= 1
            continue
        try:
            first = socket.create_connection((address, port), timeout=1)
            first.sendall(b'\0' * 64)
        except OSError:
            continue
        hits.append(port)
        until = time.time() + 3
        while time.time() < until:
            try:
                squat = socket.socket()
                squat.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                squat.bind((address, port))
                squat.listen(4)
                break
            except OSError:
                squat.close()
                squat = None
                time.sleep(0.001)
        if squat is None:
            continue
        squat.settimeout(max(0.1, min(5, deadline - time.time())))
        try:
            conn, _ = squat.accept()
            conn.settimeout(3)
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                received += len(b)
        except OSError:
            pass
        squat.close()
    time.sleep(0.0005)
print(json.dumps({'hits': hits, 'received': received}))
