# A local user racing migrate for CRIU's page server port (issue 18, item 1): it watches
# /proc/net/tcp for new loopback listeners, connects to each at once (taking the page server's
# one connection), then binds the same port itself to catch the dump's connection and read
# whatever it sends. Prints {"hits": [ports], "received": bytes} after $1 seconds.
import json, socket, sys, time

deadline = time.time() + float(sys.argv[1])


def listening():
    ports = set()
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if p[3] == '0A' and p[1].startswith('0100007F:'):
                ports.add(int(p[1].split(':')[1], 16))
    return ports


seen = listening()
hits, received = [], 0
while time.time() < deadline:
    for port in sorted(listening() - seen):
        seen.add(port)
        if not 20000 <= port < 50000:
            continue
        try:
            first = socket.create_connection(('127.0.0.1', port), timeout=1)
            first.sendall(b'\0' * 64)
        except OSError:
            continue
        hits.append(port)
        until = time.time() + 3
        while time.time() < until:
            try:
                squat = socket.socket()
                squat.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                squat.bind(('127.0.0.1', port))
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
