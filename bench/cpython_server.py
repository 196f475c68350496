"""Run CPython's own SyncManager server for the mpgo benchmark harness.

Usage: python bench/cpython_server.py --authkey-hex HEX [--address 127.0.0.1:0]

Prints one line "ADDRESS host port" to stdout once the server listens, then
serves forever in this process (get_server().serve_forever()); the harness
kills it when done. Standard library only; works on 2.7 and 3.6+.
"""
from __future__ import print_function

import argparse
import binascii
import sys

from multiprocessing.managers import SyncManager


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--authkey-hex", required=True)
    ap.add_argument("--address", default="127.0.0.1:0")
    a = ap.parse_args()
    host, port = a.address.rsplit(":", 1)
    key = binascii.unhexlify(a.authkey_hex)
    m = SyncManager(address=(host, int(port)), authkey=key)
    server = m.get_server()
    print("ADDRESS %s %d" % (server.address[0], server.address[1]))
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
