"""Client processes for reclaimbench: forks --clients processes, each of which connects to the
manager, creates --proxies proxies (get_queue() once, then Queue, dict and list in turn), calls
one method on each, reports its pid and then waits to be killed. Prints {"pids": [...]} once
every client is ready (forked --batch at a time), then waits for stdin to close and SIGKILLs
whatever is left.
"""
import argparse
import binascii
import json
import os
import signal
import sys
import time
from multiprocessing.managers import SyncManager


class Manager(SyncManager):
    pass


Manager.register('get_queue')


def client(address, authkey, proxies, w):
    m = Manager(address=address, authkey=authkey)
    m.connect()
    held = []
    for i in range(proxies):
        if i == 0:
            p = m.get_queue()
            p.qsize()
        elif i % 3 == 1:
            p = m.Queue()
            p.put(i)
        elif i % 3 == 2:
            p = m.dict()
            p['k'] = i
        else:
            p = m.list()
            p.append(i)
        held.append(p)
    os.write(w, ('%d\n' % os.getpid()).encode())
    while True:  # until SIGKILL
        time.sleep(3600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--authkey-hex', required=True)
    ap.add_argument('--clients', type=int, default=1000)
    ap.add_argument('--proxies', type=int, default=10)
    ap.add_argument('--batch', type=int, default=50)
    a = ap.parse_args()
    authkey = binascii.unhexlify(a.authkey_hex)
    address = (a.host, a.port)
    r, w = os.pipe()
    rf = os.fdopen(r)
    pids, forked = [], []
    while len(pids) < a.clients:
        n = min(a.batch, a.clients - len(pids))
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                try:
                    rf.close()
                    client(address, authkey, a.proxies, w)
                except BaseException as e:
                    sys.stderr.write('client %d: %r\n' % (os.getpid(), e))
                    os.write(w, b'E\n')
                finally:
                    os._exit(1)
            forked.append(pid)
        for _ in range(n):
            line = rf.readline()
            if not line or line.startswith('E'):
                for pid in forked:
                    os.kill(pid, signal.SIGKILL)
                sys.exit('a client failed')
            pids.append(int(line))
    sys.stdout.write(json.dumps({'pids': pids}) + '\n')
    sys.stdout.flush()
    sys.stdin.read()
    for pid in forked:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in forked:
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass


if __name__ == '__main__':
    main()
