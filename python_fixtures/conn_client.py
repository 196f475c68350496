"""Python multiprocessing.connection Client against a Go connection.Listener.

Usage: conn_client.py --address HOST:PORT|/path|@abstract --authkey-hex HEX|none --scenario NAME

Runs one scenario (see SCENARIOS) and prints one JSON result line on stdout;
diagnostics go to stderr. Standard library only; runs on 2.7 and 3.6+.
The Go side of each scenario is in compat_tests/connection_test.go.
"""
from __future__ import print_function

import hashlib
import time
from array import array
from multiprocessing import AuthenticationError, BufferTooShort
from multiprocessing.connection import Client

from conn_common import (BIG, BURST, SEED, arg_parser, authkey, emit, parse_address, pattern,
                         print_auth_error)


def seed(c):
    c.send(SEED)
    got = c.recv()
    return {'ok': got == SEED, 'got': repr(got)}


def bytes_into(c):
    c.send_bytes(array('i', [42, 1729]))
    buf = array('i', [0, 0, 0])
    n = c.recv_bytes_into(buf)
    small = array('i', [0, 0])
    try:
        c.recv_bytes_into(small)
        too_short = None
    except BufferTooShort as e:
        too_short = len(e.args[0])
    return {'n': n, 'arr': list(buf), 'too_short_len': too_short}


def big(c):
    data = pattern(BIG)
    t0 = time.time()
    c.send_bytes(data)
    got = c.recv_bytes()
    return {'ok': got == data, 'len': len(got), 'sha256': hashlib.sha256(got).hexdigest(),
            'seconds': time.time() - t0}


def burst(c):
    t0 = time.time()
    for i in range(BURST):
        c.send(i)
    got = [c.recv() for _ in range(BURST)]
    return {'ok': got == list(range(BURST)), 'n': len(got), 'seconds': time.time() - t0}


def poll(c):
    r = {'poll0_idle': c.poll(0), 'poll_short_idle': c.poll(0.05)}
    c.send('go')
    r['poll_data'] = c.poll(10)
    r['msg'] = c.recv()
    r['poll_eof'] = c.poll(10)  # the Go side closes after its reply
    try:
        c.recv()
        r['eof'] = False
    except EOFError:
        r['eof'] = True
    return r


def closed(c):
    try:
        got = c.recv()
        return {'eof': False, 'got': repr(got)}
    except EOFError:
        return {'eof': True}


def peer_close(c):
    c.send('bye')
    return {'ok': True}


def latency(c, t0):
    """Client() + first round trip, then 20 round trips of 20 KiB messages
    (which CPython writes as header, then payload: Nagle holds the payload
    until the header is acknowledged)."""
    c.send('first')
    c.recv()
    first = time.time() - t0
    msg = b'y' * (20 << 10)
    times = []
    for _ in range(20):
        t1 = time.time()
        c.send_bytes(msg)
        c.recv_bytes()
        times.append(time.time() - t1)
    times.sort()
    return {'connect_rt_seconds': first, 'large_rt_median_seconds': times[len(times) // 2]}


SCENARIOS = {
    'seed': seed, 'bytes_into': bytes_into, 'big': big, 'burst': burst, 'poll': poll,
    'closed': closed, 'peer_close': peer_close, 'latency': latency,
}


def main():
    ap = arg_parser()
    ap.add_argument('--bytes-address', action='store_true',
                    help='pass an abstract address as bytes, as Listener.address reports it (3.7+)')
    args = ap.parse_args()
    key = authkey(args)
    address = parse_address(args.address)
    if args.bytes_address:
        address = address.encode('latin-1')
    if args.scenario == 'latency':
        # Warm up what the first handshake would import or initialise lazily.
        import hmac
        import os
        for d in ('md5', 'sha256'):
            try:
                hmac.new(b'k', os.urandom(20), getattr(hashlib, d)).digest()
            except (ValueError, AttributeError):
                pass
    t0 = time.time()
    try:
        c = Client(address, authkey=key)
    except AuthenticationError as e:
        print_auth_error(e)
        return
    connect = time.time() - t0
    try:
        if args.scenario == 'latency':
            result = latency(c, t0)
        else:
            result = SCENARIOS[args.scenario](c)
    finally:
        c.close()
    result['connect_seconds'] = connect
    emit(result)


if __name__ == '__main__':
    main()
