"""Python multiprocessing.connection Listener for a Go connection.Dial.

Usage: conn_server.py --address HOST:PORT|/path|@abstract --authkey-hex HEX|none --scenario NAME

Prints a first JSON line {"event": "listening", "address": ...} once it
listens, accepts one connection, runs one scenario (see SCENARIOS) and prints
one JSON result line. Diagnostics go to stderr. Standard library only; runs
on 2.7 and 3.6+. The Go side of each scenario is in
compat_tests/connection_test.go.
"""
from __future__ import print_function

import json
import sys
from array import array
from multiprocessing import AuthenticationError, BufferTooShort
from multiprocessing.connection import Listener

from conn_common import (BIG, BURST, SEED, arg_parser, authkey, emit, parse_address, pattern,
                         print_auth_error)


def format_address(a):
    if isinstance(a, tuple):
        return '%s:%d' % a
    if isinstance(a, bytes) and not isinstance(a, str):
        a = a.decode('latin-1')
    if a.startswith('\0'):
        return '@' + a[1:]
    return a


def seed(c):
    got = c.recv()
    c.send(got)
    return {'ok': got == SEED, 'got': repr(got)}


def bytes_into(c):
    buf = array('i', [0, 0, 0])
    n = c.recv_bytes_into(buf)
    c.send_bytes(array('i', [42, 1729]))
    small = array('i', [0, 0])
    try:
        c.recv_bytes_into(small)
        too_short = None
    except BufferTooShort as e:
        too_short = len(e.args[0])
    c.send_bytes(b'0123456789abcdef')  # the Go side reads it into 8 bytes
    c.recv()  # wait for the Go side to finish
    return {'n': n, 'arr': list(buf), 'too_short_len': too_short}


def big(c):
    got = c.recv_bytes()
    ok = got == pattern(BIG)
    c.send_bytes(got)
    c.recv()
    return {'ok': ok, 'len': len(got)}


def burst(c):
    got = [c.recv() for _ in range(BURST)]
    for i in range(BURST):
        c.send(i)
    c.recv()
    return {'ok': got == list(range(BURST)), 'n': len(got)}


def poll(c):
    r = {'poll_wait': c.poll(10)}
    r['msg'] = c.recv()
    r['poll0_idle'] = c.poll(0)
    c.send('reply')
    r['poll_eof'] = c.poll(10)  # the Go side closes after the reply
    try:
        c.recv()
        r['eof'] = False
    except EOFError:
        r['eof'] = True
    return r


def closed(c):
    return {'ok': True}  # close at once; the Go side sees io.EOF


SCENARIOS = {'seed': seed, 'bytes_into': bytes_into, 'big': big, 'burst': burst, 'poll': poll,
             'closed': closed}


def main():
    ap = arg_parser()
    args = ap.parse_args()
    key = authkey(args)
    address = parse_address(args.address)
    family = 'AF_INET' if isinstance(address, tuple) else 'AF_UNIX'
    l = Listener(address, family=family, authkey=key)
    print(json.dumps({'event': 'listening', 'address': format_address(l.address)}))
    sys.stdout.flush()
    try:
        try:
            c = l.accept()
        except AuthenticationError as e:
            print_auth_error(e)
            return
        try:
            result = SCENARIOS[args.scenario](c)
        finally:
            c.close()
    finally:
        try:
            l.close()
        except (TypeError, ValueError) as e:
            # 2.7 and 3.6 try to unlink an abstract name as a file (PROTOCOL.md 1.2).
            print('listener close: %r' % (e,), file=sys.stderr)
    emit(result)


if __name__ == '__main__':
    main()
