"""Instances of client classes as keys and items of a SyncManager's dict and list, and Python 2
int/long through a queue, against a manager at --host/--port.

The server cannot import the client's classes; it keeps instances as data and compares two of
them as equal when they are the same class built from equal arguments and state (what a pickle
round trip of one value gives), a namedtuple as the tuple of its fields.

Scenarios (--scenario):
  keys   namedtuple, enum member (3.4+), frozen dataclass (3.7+) and a value-like plain class
         as dict keys (d[k], get, pop, setdefault, in) and list items (index, count, remove,
         in); a namedtuple equals its plain tuple; sorting a list of namedtuples orders them as
         tuples; sorting instances of a plain class raises TypeError naming the class
  ints   2**40, -2**40, 5 and (Python 2) long(5), long(2**40) put in a queue and got by a child
         process (another connection) keep their type (int stays int, long stays long), and
         in a list
Prints one JSON line {"scenario", "ok", "failures", ...}. Works on Python 2.7 and 3.6+.
Standard library only.
"""

import argparse
import binascii
import collections
import json
import multiprocessing
import multiprocessing.managers
import sys
import time

Point = collections.namedtuple('Point', 'x y')


class Key(object):
    """A value-like class: equal by its attributes."""

    def __init__(self, name, parts):
        self.name = name
        self.parts = parts

    def __eq__(self, other):
        return type(other) is Key and (self.name, self.parts) == (other.name, other.parts)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.name, tuple(self.parts)))


if sys.version_info >= (3, 4):
    import enum

    class Color(enum.Enum):
        RED = 1
        GREEN = 2
else:
    Color = None

if sys.version_info >= (3, 7):
    exec('''
import dataclasses

@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int
    b: str
''')
else:
    Frozen = None


def connect(host, port, key):
    m = multiprocessing.managers.SyncManager(address=(host, port), authkey=key)
    m.connect()
    return m


class Checker(object):
    def __init__(self):
        self.failures = []
        self.count = 0

    def check(self, what, cond):
        self.count += 1
        if not cond:
            self.failures.append(what)

    def raises(self, what, exc, f, *args):
        self.count += 1
        try:
            f(*args)
        except exc as e:
            return str(e)
        except Exception as e:  # the wrong exception
            self.failures.append('%s: %s: %s' % (what, type(e).__name__, e))
            return None
        self.failures.append('%s: no exception' % what)
        return None


def keys(m, host, port, key):
    c = Checker()
    d = m.dict()
    values = [(Point(5, 6), 'np'), (Key('k', [1, 2]), 'key')]
    if Color is not None:
        values.append((Color.RED, 'red'))
    if Frozen is not None:
        values.append((Frozen(1, 'x'), 'frozen'))
    for k, v in values:
        name = type(k).__name__
        d[k] = v
        c.check(name + ' d[k]', d[k] == v)
        c.check(name + ' in', k in d)
        c.check(name + ' get', d.get(k) == v)
        c.check(name + ' setdefault', d.setdefault(k, 'other') == v)
        c.check(name + ' keys', k in d.keys())
    c.check('len', len(d) == len(values))
    c.check('namedtuple == tuple key', d[(5, 6)] == 'np')
    c.check('tuple in', (5, 6) in d)
    c.check('pop', d.pop(Point(5, 6)) == 'np' and Point(5, 6) not in d)
    c.raises('KeyError after pop', KeyError, lambda: d[Point(5, 6)])
    c.check('other key absent', d.get(Key('k', [1, 3])) is None)

    items = [k for k, _ in values]
    lst = m.list(items + items[:1])
    for i, k in enumerate(items):
        name = type(k).__name__
        c.check(name + ' index', lst.index(k) == i)
        c.check(name + ' count', lst.count(k) == (2 if i == 0 else 1))
        c.check(name + ' list in', k in lst)
    c.check('index of plain tuple', lst.index((5, 6)) == 0)
    lst.remove(Point(5, 6))
    c.check('remove', lst.count(Point(5, 6)) == 1 and lst[len(lst) - 1] == Point(5, 6))

    pts = m.list([Point(3, 1), Point(1, 2), (2, 0)])
    pts.sort()
    c.check('sort namedtuples', list(pts) == [(1, 2), (2, 0), (3, 1)] and type(pts[0]) is Point)
    objs = m.list([Key('b', []), Key('a', [])])
    msg = c.raises('sort plain objects', TypeError, objs.sort)
    c.check('TypeError names the class: %r' % msg, msg is not None and 'Key' in msg)
    return {'ok': not c.failures, 'checks': c.count, 'failures': c.failures}


def consume(q, out, n):
    """In another process (another connection): report the types of the next n items."""
    got = [q.get(timeout=10) for _ in range(n)]
    out.put([(repr(x), type(x).__name__) for x in got])


def ints(m, host, port, key):
    c = Checker()
    values = [2 ** 40, -2 ** 40, 5, 2 ** 31, -2 ** 31 - 1, 2 ** 63 - 1]
    if sys.version_info[0] == 2:
        values += [long(5), long(2 ** 40), long(0), long(-7), 2 ** 70]  # noqa: F821 (Python 2)
    # put here, fetched by a child process through its own connection
    q, out = m.Queue(), m.Queue()
    p = multiprocessing.Process(target=consume, args=(q, out, len(values)))
    p.daemon = True
    p.start()
    for v in values:
        q.put(v)
    got = out.get(timeout=30)
    p.join(30)
    want = [(repr(v), type(v).__name__) for v in values]
    for w, g in zip(want, got):
        c.check('%s: got %s' % (w, g), list(g) == list(w))
    c.check('count', len(got) == len(want))
    # a list, and a list in a queue, keep them too
    lst = m.list(values)
    c.check('list types', [type(x) for x in lst] == [type(x) for x in values])
    q.put(values)
    back = q.get(timeout=10)
    c.check('list in a queue', back == values and [type(x) for x in back] == [type(x) for x in values])
    return {'ok': not c.failures, 'checks': c.count, 'failures': c.failures}


SCENARIOS = {'keys': keys, 'ints': ints}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--authkey-hex', required=True)
    ap.add_argument('--scenario', required=True, choices=sorted(SCENARIOS))
    opts = ap.parse_args()
    key = binascii.unhexlify(opts.authkey_hex)
    multiprocessing.current_process().authkey = key
    m = connect(opts.host, opts.port, key)
    start = time.time()
    res = SCENARIOS[opts.scenario](m, opts.host, opts.port, key)
    res['scenario'] = opts.scenario
    res['python'] = '%d.%d' % sys.version_info[:2]
    res['seconds'] = round(time.time() - start, 2)
    print(json.dumps(res))


if __name__ == '__main__':
    main()
