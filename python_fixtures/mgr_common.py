"""Shared helpers for the mgr_*.py fixtures (standard library only, Python 2.7 and 3.6+).

The fixtures are plain user programs: they use multiprocessing.managers exactly as the
documentation does, against a manager served by mpgo.
"""
import argparse
import binascii
import json
import multiprocessing
import sys


def parse_args(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--unix', default='')
    p.add_argument('--authkey-hex', required=True)
    if extra:
        extra(p)
    a = p.parse_args()
    a.authkey = binascii.unhexlify(a.authkey_hex)
    a.address = a.unix or (a.host, a.port)
    # Proxies that come back inside results are rebuilt with the process key (PROTOCOL.md 4.9).
    multiprocessing.current_process().authkey = a.authkey
    return a


def emit(result):
    sys.stdout.write(json.dumps(result, sort_keys=True) + '\n')
    sys.stdout.flush()


def log(*args):
    sys.stderr.write(' '.join(str(a) for a in args) + '\n')
    sys.stderr.flush()
