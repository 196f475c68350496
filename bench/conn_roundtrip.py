"""CPython side of the connection benchmark (bench/conn_bench_test.go).

  conn_roundtrip.py server --address HOST:PORT --authkey-hex HEX|none [--pickle]
      A multiprocessing.connection Listener that echoes every message of each
      client (recv_bytes/send_bytes, or recv/send with --pickle), one client
      at a time. Prints {"address": "HOST:PORT"} once listening.

  conn_roundtrip.py client --address HOST:PORT --authkey-hex HEX|none --mode rt --n N [--size S] [--pickle]
      One connection, N round trips; prints {"median_us": .., "mean_us": ..}.

  conn_roundtrip.py client --address HOST:PORT --authkey-hex HEX|none --mode connect --n N
      N times: Client() (with the handshake), one send + recv, close. Prints
      {"median_ms": .., "p90_ms": .., "mean_ms": ..}.

Standard library only; 2.7 and 3.6+.
"""
from __future__ import print_function

import argparse
import binascii
import json
import sys
import time
from multiprocessing.connection import Client, Listener

now = getattr(time, 'perf_counter', time.time)


def parse_address(s):
    host, port = s.rsplit(':', 1)
    return (host, int(port))


def server(args, key):
    l = Listener(parse_address(args.address), authkey=key)
    print(json.dumps({'address': '%s:%d' % l.address}))
    sys.stdout.flush()
    while True:
        c = l.accept()
        try:
            while True:
                if args.pickle:
                    c.send(c.recv())
                else:
                    c.send_bytes(c.recv_bytes())
        except (EOFError, IOError, OSError):
            pass
        c.close()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def client(args, key):
    addr = parse_address(args.address)
    if args.mode == 'rt':
        c = Client(addr, authkey=key)
        msg = b'x' * args.size
        obj = ['put', 42, 2.5]
        times = []
        for _ in range(args.n):
            t0 = now()
            if args.pickle:
                c.send(obj)
                c.recv()
            else:
                c.send_bytes(msg)
                c.recv_bytes()
            times.append(now() - t0)
        c.close()
        print(json.dumps({'median_us': pct(times, 0.5) * 1e6, 'mean_us': sum(times) / len(times) * 1e6}))
    else:
        times = []
        for _ in range(args.n):
            t0 = now()
            c = Client(addr, authkey=key)
            c.send('ping')
            c.recv()
            times.append(now() - t0)
            c.close()
        print(json.dumps({'median_ms': pct(times, 0.5) * 1e3, 'p90_ms': pct(times, 0.9) * 1e3,
                          'mean_ms': sum(times) / len(times) * 1e3}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('role', choices=['server', 'client'])
    ap.add_argument('--address', required=True)
    ap.add_argument('--authkey-hex', default='none')
    ap.add_argument('--pickle', action='store_true')
    ap.add_argument('--mode', choices=['rt', 'connect'], default='rt')
    ap.add_argument('--n', type=int, default=10000)
    ap.add_argument('--size', type=int, default=16)
    args = ap.parse_args()
    key = None if args.authkey_hex == 'none' else binascii.unhexlify(args.authkey_hex)
    if args.role == 'server':
        server(args, key)
    else:
        client(args, key)


if __name__ == '__main__':
    main()
