"""Python Client against `mpgo echo`: everything sent must come back equal.

Usage: conn_echo_client.py --address HOST:PORT|/path|@abstract --authkey-hex HEX|none

Sends pickled objects (send) and raw messages (send_bytes, including data
that starts like a pickle) and checks each echo. Prints one JSON line.
Standard library only; runs on 2.7 and 3.6+.
"""
from __future__ import print_function

import sys
import time
from array import array
from multiprocessing.connection import Client

from conn_common import arg_parser, authkey, emit, parse_address

OBJECTS = [
    [2.25, None, 'junk', float],
    {'a': (1, 2), 3: [4.5, u'h\xe9llo']},
    set([1, 2, 3]),
    frozenset(['x']),
    2 ** 100,
    -7,
    complex(1, 2),
    (True, False, None),
    u'\u20ac uni',
    b'raw bytes',
    bytearray(b'ba'),
    ValueError('boom', 3),
    list(range(1000)),
]

BYTES = [
    b'',
    b'plain',
    array('i', [42, 1729]).tostring() if sys.version_info[0] == 2 else array('i', [42, 1729]).tobytes(),
    b'\x80\x04junk',                # starts like a pickle but is not one
    b'\x80\x02N.trailing',          # a pickle with trailing bytes
    b'N.',                          # a protocol 0 pickle: echoed byte for byte
    bytes(bytearray(range(256))) * 100,
]


def same(a, b):
    if isinstance(a, BaseException):
        return type(a) is type(b) and a.args == b.args
    return type(a) is type(b) and a == b


def main():
    args = arg_parser(scenario=False).parse_args()
    key = authkey(args)
    t0 = time.time()
    c = Client(parse_address(args.address), authkey=key)
    c.send('hello')
    first = c.recv()
    connect = time.time() - t0
    bad = []
    for o in OBJECTS:
        c.send(o)
        got = c.recv()
        if not same(o, got):
            bad.append('object %r came back as %r' % (o, got))
    for b in BYTES:
        c.send_bytes(b)
        got = c.recv_bytes()
        if got != b:
            bad.append('bytes %r came back as %r' % (b[:40], got[:40]))
    c.close()
    emit({'ok': not bad and first == 'hello', 'bad': bad, 'connect_seconds': connect})


if __name__ == '__main__':
    main()
