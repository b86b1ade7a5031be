#!/usr/bin/env python3
"""streamcpu.py measures the server's CPU per event with N event-stream clients.

It loads the demo into a scratch store, starts `consensus serve` on it with a
write token, opens CLIENTS clients of GET /api/v1/events/stream?instrument=BABA,
posts EVENTS target revisions one request each, waits until every client has
every event, and prints the server's user+sys CPU (from /proc) over the posts.
Run it with CLIENTS 0 to get the cost of the writes alone, and alternate the
binaries to compare (the load of a shared machine then falls on each alike).

Usage: scripts/streamcpu.py BINARY CLIENTS EVENTS
  e.g. for b in /tmp/old /tmp/new /tmp/old /tmp/new; do
         for n in 0 100; do scripts/streamcpu.py $b $n 300; done; done
"""
import http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

binary, n_clients, n_events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
work = tempfile.mkdtemp(prefix='streamcpu-')
store = os.path.join(work, 'demo.db')
subprocess.run([binary, 'demo', '--store', store], check=True, stdout=subprocess.DEVNULL)
token = 'streamcpu-write-token-0123456789abcdef'
tokens = os.path.join(work, 'tokens')
with open(tokens, 'w') as f:
    f.write(token + ' write streamcpu\n')
s = socket.socket()
s.bind(('127.0.0.1', 0))
port = s.getsockname()[1]
s.close()
srv = subprocess.Popen([binary, 'serve', '--addr', '127.0.0.1:%d' % port, '--store', store, '--tokens', tokens,
                        '--poll', '20ms', '--max-streams', str(max(256, n_clients + 10))],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu():
    fields = open('/proc/%d/stat' % srv.pid).read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


try:
    for _ in range(300):
        try:
            c = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
            c.request('GET', '/healthz')
            c.getresponse().read()
            break
        except OSError:
            time.sleep(0.1)
    auth = {'Authorization': 'Bearer ' + token}
    counts = [0] * n_clients
    ready = threading.Barrier(n_clients + 1)

    def client(i):
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
        c.request('GET', '/api/v1/events/stream?instrument=BABA', headers=auth)
        r = c.getresponse()
        assert r.status == 200, r.status
        for _ in range(3):  # retry:, the comment, the blank line
            r.readline()
        ready.wait()
        while counts[i] < n_events:
            line = r.readline()
            if not line:
                return
            if line.startswith(b'data: '):
                counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n_clients)]
    for t in threads:
        t.start()
    ready.wait()
    time.sleep(0.5)
    before = cpu()
    analysts = ['r.patel@northgate', 'a.schmidt@rheinland', 'p.rossi@lagoon-capital', 'j.ortiz@meridian']
    w = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    for k in range(n_events):
        row = {'type': 'target', 'instrument': 'BABA', 'analyst': analysts[k % 4], 'currency': 'USD',
               'target': str(150 + k % 40), 'at': '2025-09-12T%02d:%02d:%02dZ' % (k // 3600 % 24, k // 60 % 60, k % 60)}
        w.request('POST', '/api/v1/events', body=json.dumps([row]), headers=dict(auth, **{'Content-Type': 'application/json'}))
        r = w.getresponse()
        r.read()
        assert r.status == 201, r.status
    for t in threads:
        t.join(120)
    after = cpu()
    assert all(n == n_events for n in counts), counts
    print('%s clients=%d events=%d server CPU %.2f s, %.2f ms per event' %
          (binary, n_clients, n_events, after - before, (after - before) * 1000 / n_events))
finally:
    srv.terminate()
    srv.wait()
    shutil.rmtree(work)
