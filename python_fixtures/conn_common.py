"""Shared helpers for the conn_*.py fixtures (standard library only, Python 2.7 and 3.6+).

Addresses on the command line are HOST:PORT, a Unix socket path, or @name for an
abstract Unix socket; --authkey-hex is the key in hex, or 'none' for no handshake.
"""
from __future__ import print_function

import argparse
import binascii
import json
import sys

SEED = [2.25, None, 'junk', float]
BIG = 64 << 20
BURST = 10000


def parse_address(s):
    """HOST:PORT -> (host, port); @name -> '\\0name'; anything else is a path."""
    if s.startswith('@'):
        return '\0' + s[1:]
    if '/' not in s and ':' in s:
        host, port = s.rsplit(':', 1)
        return (host.strip('[]'), int(port))
    return s


def pattern(n):
    """n bytes (a multiple of 256) of 0..255 repeated."""
    return bytes(bytearray(range(256))) * (n // 256)


def arg_parser(scenario=True):
    """The common options: --address, --authkey-hex and (if scenario) --scenario."""
    ap = argparse.ArgumentParser()
    ap.add_argument('--address', required=True)
    ap.add_argument('--authkey-hex', default='none')
    if scenario:
        ap.add_argument('--scenario', required=True)
    return ap


def authkey(args):
    """The key given by --authkey-hex (None for 'none')."""
    return None if args.authkey_hex == 'none' else binascii.unhexlify(args.authkey_hex)


def print_auth_error(e):
    """The result line for a failed handshake."""
    print(json.dumps({'auth_error': type(e).__name__, 'msg': str(e)}))


def emit(result):
    """Prints result, with the interpreter's version, as the one JSON result line."""
    result['python'] = '%d.%d' % sys.version_info[:2]
    print(json.dumps(result))
