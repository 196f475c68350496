"""A CPython manager server for the Go client's compat tests (managers_client_test.go).

    python client_server.py --authkey-hex HEX [--mode sync|base] [--serializer pickle|xmlrpclib]

Starts Server(...).serve_forever() (BaseManager.get_server()) on ('127.0.0.1', 0) and prints one
JSON line {"host": ..., "port": ..., "version": ...} once it listens. --mode sync uses a
SyncManager (every SyncManager typeid); --mode base a plain BaseManager. Both also register:

  Counter  a class with incr/fail/value/child; child is in method_to_typeid -> 'Child'
  Child    callable None (the object returned by Counter.child is registered as is)
  get_queue  returns one shared queue.Queue (the documented register('get_queue', ...) pattern)

Standard library only; runs on 2.7 and 3.6+. Stops on a 'shutdown' request or when killed.
"""
import argparse
import binascii
import json
import sys
import multiprocessing
from multiprocessing.managers import BaseManager, SyncManager

try:
    import queue
except ImportError:  # Python 2
    import Queue as queue


class Child(object):
    def __init__(self, n):
        self.n = n

    def get(self):
        return self.n

    def add(self, k):
        self.n += k
        return self.n


class Counter(object):
    def __init__(self, start=0):
        self.n = start

    def incr(self, k=1):
        self.n += k
        return self.n

    def value(self):
        return self.n

    def fail(self, key):
        raise KeyError(key)

    def child(self):
        return Child(self.n)


SHARED_QUEUE = queue.Queue()


def get_queue():
    return SHARED_QUEUE


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--authkey-hex", required=True)
    ap.add_argument("--mode", choices=["sync", "base"], default="sync")
    ap.add_argument("--serializer", choices=["pickle", "xmlrpclib"], default="pickle")
    a = ap.parse_args()
    key = binascii.unhexlify(a.authkey_hex)
    # Proxies rebuilt inside this process (nested proxies) authenticate with the process key.
    multiprocessing.current_process().authkey = key

    base = SyncManager if a.mode == "sync" else BaseManager

    class M(base):
        pass

    M.register("Counter", Counter, exposed=("incr", "value", "fail", "child"),
               method_to_typeid={"child": "Child"})
    M.register("Child", None, exposed=("get", "add"), create_method=False)
    M.register("get_queue", callable=get_queue)

    m = M(address=("127.0.0.1", 0), authkey=key, serializer=a.serializer)
    server = m.get_server()
    addr = server.address
    sys.stdout.write(json.dumps({"host": addr[0], "port": addr[1],
                                 "version": "%d.%d" % sys.version_info[:2]}) + "\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
