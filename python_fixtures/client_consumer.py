"""A CPython manager client on the other side of the Go client (managers_client_test.go).

    python client_consumer.py --host H --port P --authkey-hex HEX --typeid T --ident ID OP [ARG]

Builds a proxy for the object (typeid T, ident ID) of the manager at (H, P) the way a Python
process that received the token would, runs OP and prints one JSON line:

  get N       Queue: get N items (20 s timeout each)                  -> {"items": [...]}
  put JSON    Queue: put every item of the JSON list                  -> {"ok": true}
  dictget K   dict: d[K]; a proxy value is read with _getvalue(), a
              queue proxy with get(timeout=20)                        -> {"kind": "proxy"|"value", "value": ...}
  value       #GETVALUE of the object                                 -> {"value": ...}

Every proxy is released before the line is printed. Standard library only; 2.7 and 3.6+.
"""
import argparse
import binascii
import gc
import json
import sys
import multiprocessing
from multiprocessing.managers import Token, AutoProxy, BaseProxy, DictProxy, ListProxy

try:
    unicode
except NameError:  # Python 3
    unicode = str


def plain(v):
    """Make v JSON-friendly: py2 str stays text, tuples become lists."""
    if isinstance(v, bytes) and not isinstance(v, str):
        return {"bytes": binascii.hexlify(v).decode()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return dict((unicode(k), plain(x)) for k, x in v.items())
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--authkey-hex", required=True)
    ap.add_argument("--typeid", required=True)
    ap.add_argument("--ident", required=True)
    ap.add_argument("op")
    ap.add_argument("arg", nargs="?")
    a = ap.parse_args()
    key = binascii.unhexlify(a.authkey_hex)
    multiprocessing.current_process().authkey = key
    token = Token(str(a.typeid), (str(a.host), a.port), str(a.ident))
    if a.typeid == "dict":
        p = DictProxy(token, "pickle", authkey=key)
    elif a.typeid == "list":
        p = ListProxy(token, "pickle", authkey=key)
    else:
        p = AutoProxy(token, "pickle", authkey=key)

    if a.op == "get":
        out = {"items": [plain(p.get(timeout=20)) for _ in range(int(a.arg))]}
    elif a.op == "put":
        for item in json.loads(a.arg):
            p.put(item)
        out = {"ok": True}
    elif a.op == "dictget":
        v = p[a.arg]
        if isinstance(v, BaseProxy):
            if hasattr(v, "get_nowait"):
                value = v.get(timeout=20)
            else:
                value = v._getvalue()
            out = {"kind": "proxy", "value": plain(value)}
            del v
        else:
            out = {"kind": "value", "value": plain(v)}
    elif a.op == "value":
        out = {"value": plain(p._getvalue())}
    else:
        raise SystemExit("unknown op %r" % a.op)
    del p
    gc.collect()
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
