"""Pickle corpus for the mpgo pickle package (stdlib only; Python 2.7 and 3.6 to 3.13).

  gen_pickle_corpus.py write OUT.jsonl   write every corpus entry at every protocol this
                                         interpreter supports, one JSON object a line:
                                         {"name": ..., "proto": N, "hex": "..."}
  gen_pickle_corpus.py check-loose IN    like check, but ASCII unicode and str compare equal (Python 2
                                         mode of the Go encoder writes ASCII text as str)
  gen_pickle_corpus.py check IN.jsonl    IN has lines {"name", "proto", "orig", "go"} (hex): unpickle
                                         both and compare deep-equal, including which parts are shared
                                         and which are cycles; print a JSON summary as the last line.
"""
from __future__ import print_function

import array
import binascii
import collections
import datetime
import decimal
import fractions
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus_classes as cc  # noqa: E402
from multiprocessing import managers  # noqa: E402

PY2 = sys.version_info[0] == 2
if PY2:
    import cPickle as pickle  # what multiprocessing uses on 2.7
    text_type = unicode  # noqa: F821
    int_types = (int, long)  # noqa: F821
else:
    import pickle
    text_type = str
    int_types = (int,)


def u(s):
    """A unicode literal from an escaped ASCII str (works on 2.7 and 3.x)."""
    if PY2:
        return s.decode('unicode-escape')
    return s.encode('ascii').decode('unicode-escape')


def entries():
    """(name, builder) pairs; builders make fresh values."""
    E = []

    def add(name, fn):
        E.append((name, fn))

    # --- scalars
    add('none', lambda: None)
    add('true', lambda: True)
    add('false', lambda: False)
    ints = [0, 1, -1, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1,
            2 ** 63 - 1, -2 ** 63, 2 ** 63, 2 ** 64, -2 ** 64, 2 ** 1000, -(2 ** 1000), 127, 128, -128, -129]
    for i, v in enumerate(ints):
        add('int_%d' % i, (lambda v=v: v))
    floats = [0.0, -0.0, 1.5, float('inf'), float('-inf'), float('nan'), 1e308, 5e-324, 0.1, 1e16, -2.5e-7]
    for i, v in enumerate(floats):
        add('float_%d' % i, (lambda v=v: v))
    add('complex', lambda: complex(1, 2))
    add('complex_imag', lambda: 1j)
    add('complex_inf', lambda: complex(float('inf'), -1.5))
    # --- text
    texts = ['', 'abc', 'caf\\xe9', '\\u20ac', '\\U0001f600', 'a\\\\b\\nc\\r\\x00\\x1a"\'', '\\ud800', 'x\\udfffy',
             'tab\\there', '\\\\u0041 not an escape']
    for i, s in enumerate(texts):
        add('unicode_%d' % i, (lambda s=s: u(s)))
    add('unicode_long', lambda: u('\\u20acx') * 200)
    add('str_ascii', lambda: 'native str')
    if PY2:
        add('py2str_bin', lambda: 'bin\x00\xff\'"\\')
        add('py2str_long', lambda: 'y' * 300)
    else:
        add('bytes_empty', lambda: b'')
        add('bytes_short', lambda: b'abc')
        add('bytes_all', lambda: bytes(bytearray(range(256))))
        add('bytes_300', lambda: b'x' * 300)
        add('bytes_big', lambda: b'z' * 70000)
    add('bytearray_empty', lambda: bytearray())
    add('bytearray', lambda: bytearray(b'ab\x00\xff'))
    # --- containers
    add('tuple0', lambda: ())
    add('tuple1', lambda: (1,))
    add('tuple2', lambda: (1, 'a'))
    add('tuple3', lambda: (1, 2, 3))
    add('tuple5', lambda: tuple(range(5)))
    add('list0', lambda: [])
    add('list1', lambda: [1])
    add('list_big', lambda: list(range(2500)))
    add('list_mixed', lambda: [None, True, 1, 2.5, u('s'), (1,), [2], {3: 4}])
    add('dict0', lambda: {})
    add('dict1', lambda: {'a': 1})
    add('dict_big', lambda: dict((i, str(i)) for i in range(1500)))
    add('dict_keys', lambda: {1: 'int', 2.5: 'float', (1, 2): 'tuple', frozenset([1]): 'fs', None: 'none', u('u'): 'str'})
    add('nested', lambda: {'k': [1, {'x': (1, 2, [3])}], 'n': [[[[]]]]})
    add('deep', lambda: _deep(300))
    add('set0', lambda: set())
    add('set', lambda: set([1, 2, 3]))
    add('set_mixed', lambda: set([1, u('a'), (1, 2), None]))
    add('frozenset0', lambda: frozenset())
    add('frozenset', lambda: frozenset([1, u('a')]))
    add('set_big', lambda: set(range(1200)))
    add('memo_many', lambda: [u('s%d') % i for i in range(300)])
    # --- sharing and cycles
    add('shared_list', _shared_list)
    add('shared_dict', _shared_dict)
    add('shared_set', _shared_set)
    add('shared_tuple', _shared_tuple)
    add('list_self', _list_self)
    add('dict_self', _dict_self)
    add('tuple_rec', _tuple_rec)
    add('obj_self', _obj_self)
    add('set_in_list_cycle', _set_cycle)
    # --- instances
    add('plain', lambda: cc.Plain(1, u('x')))
    add('slotted', lambda: cc.Slotted(1, [2]))
    add('slotted_dict', _slotted_dict)
    add('reduced', lambda: cc.Reduced('r', 3))
    add('with_state', lambda: cc.WithState(5))
    add('newargs', lambda: cc.NewArgs(1, 'b'))
    if not PY2:
        add('newargs_ex', lambda: cc.NewArgsEx(1, b=2))
    add('listsub', _listsub)
    add('dictsub', _dictsub)
    if PY2:
        add('oldstyle', lambda: cc.OldStyle([1, 2]))
        add('oldstyle_initargs', lambda: cc.OldStyleInitArgs(1, 'b'))
    # --- exceptions
    add('exc_keyerror', lambda: KeyError('missing'))
    add('exc_valueerror', lambda: ValueError('a', 2))
    add('exc_attr', _exc_attr)
    add('exc_oserror', lambda: OSError(2, 'No such file'))
    add('exc_stop', lambda: StopIteration())
    add('exc_empty', lambda: Exception())
    # --- stdlib values
    add('datetime', lambda: datetime.datetime(2024, 1, 2, 3, 4, 5, 6))
    add('datetime_tz', lambda: datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=cc.FixedTZ(120, 'X')))
    if not PY2:
        add('datetime_utc', lambda: datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
        add('datetime_offset', lambda: datetime.datetime(2000, 2, 29, tzinfo=datetime.timezone(datetime.timedelta(hours=-5), 'EST')))
    add('date', lambda: datetime.date(1999, 12, 31))
    add('time', lambda: datetime.time(1, 2, 3, 4))
    add('time_tz', lambda: datetime.time(1, 2, 3, tzinfo=cc.FixedTZ(-30, 'Y')))
    add('timedelta', lambda: datetime.timedelta(days=-1, seconds=5, microseconds=7))
    add('decimal', lambda: decimal.Decimal('1.50'))
    add('decimal_neg', lambda: decimal.Decimal('-0'))
    add('fraction', lambda: fractions.Fraction(3, 4))
    add('ordereddict', lambda: collections.OrderedDict([('b', 1), ('a', [2])]))
    add('defaultdict', lambda: collections.defaultdict(list, {'x': [1]}))
    add('counter', lambda: collections.Counter('abca'))
    add('deque', lambda: collections.deque([1, 2], 5))
    add('namedtuple', lambda: cc.Point(1, u('y')))
    if cc.Color is not None:
        add('enum', lambda: cc.Color.RED)
        add('enum_str', lambda: cc.Color.GREEN)
        add('intflag', lambda: cc.Perm.R | cc.Perm.W if hasattr(cc.Perm, '__or__') else cc.Perm.R)
    add('array_i', lambda: array.array('i', [1, 2, 3]))
    add('array_d', lambda: array.array('d', [1.5, -2.0]))
    add('slice', lambda: slice(1, 10, 2))
    add('global_float', lambda: float)
    add('global_len', lambda: len)
    add('global_class', lambda: cc.Plain)
    # --- multiprocessing
    add('token', lambda: managers.Token('Child', ('127.0.0.1', 16101), '7fe0857f4980'))
    add('token_unix', lambda: managers.Token('Queue', '/tmp/sock', '7f00'))
    add('proxy_auto', lambda: cc.ProxyForm(managers.Token('Queue', ('127.0.0.1', 16202), '7fef94fba120'),
                                           ('empty', 'get', 'put')))
    add('proxy_list', lambda: cc.ProxyForm(managers.Token('list', ('127.0.0.1', 16202), '7f01'), None, 'ListProxy'))
    add('req_put', lambda: ('7f3a2b1c', 'put', ({'id': 1, 'payload': b'x' * 100, 'tags': ['a', 'b']},), {}))
    add('req_dummy', lambda: (None, 'dummy', (), {}))
    add('reply_return', lambda: ('#RETURN', None))
    add('reply_error', lambda: ('#ERROR', KeyError('missing')))
    add('reply_proxy', lambda: ('#PROXY', (('append', 'clear'), managers.Token('Child', ('127.0.0.1', 16101), '7fe0857f4980'))))
    add('reply_traceback', lambda: ('#TRACEBACK', 'Traceback (most recent call last):\n  x\n'))
    return E


def _deep(n):
    v = []
    for _ in range(n):
        v = [v]
    return v


def _shared_list():
    l = [1, 2]
    return [l, l, {'again': l}]


def _shared_dict():
    d = {'x': 1}
    return (d, d, [d])


def _shared_set():
    s = set([1])
    return [s, s]


def _shared_tuple():
    inner = [1]
    t = (inner, 2)
    return [t, t, inner]


def _list_self():
    l = [1]
    l.append(l)
    return l


def _dict_self():
    d = {'a': 1}
    d['self'] = d
    return d


def _tuple_rec():
    l = []
    t = (l, 1)
    l.append(t)
    return t


def _obj_self():
    o = cc.Plain()
    o.a = o
    o.b = [o]
    return o


def _set_cycle():
    l = []
    s = set([1])
    l.append(s)
    l.append(l)
    return [l, s]


def _slotted_dict():
    o = cc.SlottedDict(1)
    o.extra = u('e')
    return o


def _listsub():
    l = cc.ListSub([1, 2])
    l.attr = 'a'
    return l


def _dictsub():
    d = cc.DictSub(a=1)
    d.attr = 'b'
    return d


def _exc_attr():
    e = cc.MyError('x', 1)
    e.code = 5
    return e


PROTOCOLS = range(0, pickle.HIGHEST_PROTOCOL + 1)


def write(path):
    n = 0
    with open(path, 'w') as f:
        for name, fn in entries():
            for proto in PROTOCOLS:
                try:
                    data = pickle.dumps(fn(), proto)
                except Exception as e:  # e.g. protocol too low for a feature
                    sys.stderr.write('skip %s/%d: %r\n' % (name, proto, e))
                    continue
                # sanity: the comparison accepts Python's own round trip
                a, b = pickle.loads(data), pickle.loads(data)
                why = compare(a, b)
                if why:
                    sys.stderr.write('self-compare failed %s/%d: %s\n' % (name, proto, why))
                    continue
                f.write(json.dumps({'name': name, 'proto': proto,
                                    'hex': binascii.hexlify(data).decode('ascii')}) + '\n')
                n += 1
    print(json.dumps({'written': n}))


# ---------------------------------------------------------------- comparison

IDENTITY_TYPES = (list, dict, set, bytearray)


def _has_identity(x):
    if isinstance(x, IDENTITY_TYPES):
        return True
    if isinstance(x, (tuple, frozenset, text_type, bytes, float, complex, type(None), bool) + int_types):
        return False
    if isinstance(x, type) or callable(x) and not hasattr(x, '__dict__'):
        return False
    return hasattr(x, '__dict__') or hasattr(type(x), '__slots__')


LOOSE_TEXT = False


def _same_kind(a, b):
    if type(a) is type(b):
        return True
    if LOOSE_TEXT and PY2 and isinstance(a, basestring) and isinstance(b, basestring):  # noqa: F821
        return True
    if PY2 and isinstance(a, int_types) and isinstance(b, int_types) and not isinstance(a, bool) and not isinstance(b, bool):
        return True
    # AutoProxy classes are made per call but with the same name
    return type(a).__name__ == type(b).__name__ and type(a).__module__ == type(b).__module__ and \
        type(a).__name__.startswith('AutoProxy[')


class _Cmp(object):
    def __init__(self):
        self.amap = {}
        self.bmap = {}

    def eq(self, a, b, path):
        if not _same_kind(a, b):
            return '%s: type %s != %s' % (path, type(a).__name__, type(b).__name__)
        if _has_identity(a):
            ia, ib = id(a), id(b)
            if ia in self.amap or ib in self.bmap:
                if self.amap.get(ia) != ib or self.bmap.get(ib) != ia:
                    return '%s: sharing differs' % path
                return None
            self.amap[ia] = ib
            self.bmap[ib] = ia
        if isinstance(a, (float, complex)):
            return None if repr(a) == repr(b) else '%s: %r != %r' % (path, a, b)
        if isinstance(a, (text_type, bytes, bool, type(None), bytearray) + int_types):
            return None if a == b else '%s: %r != %r' % (path, a, b)
        if isinstance(a, (set, frozenset)):
            return None if a == b else '%s: %r != %r' % (path, a, b)
        if isinstance(a, managers.Token):
            return self.eq((a.typeid, a.address, a.id), (b.typeid, b.address, b.id), path + '.token')
        if isinstance(a, managers.BaseProxy):
            return self.eq((a._token, a._serializer), (b._token, b._serializer), path + '.proxy')
        if isinstance(a, BaseException):
            why = self.eq(a.args, b.args, path + '.args')
            if why:
                return why
            return self.eq(_attrs(a), _attrs(b), path + '.__dict__')
        if isinstance(a, (datetime.date, datetime.time, datetime.timedelta, decimal.Decimal,
                          fractions.Fraction, array.array, slice)) or \
                (cc.Color is not None and isinstance(a, (cc.Color, cc.Perm))):
            if a != b:
                return '%s: %r != %r' % (path, a, b)
            if isinstance(a, (datetime.datetime, datetime.time)):
                return self.eq(a.tzinfo, b.tzinfo, path + '.tzinfo')
            return None
        if isinstance(a, type) or (callable(a) and not _has_identity(a)):
            return None if a is b else '%s: %r is not %r' % (path, a, b)
        if isinstance(a, (list, tuple, collections.deque)):
            if len(a) != len(b):
                return '%s: len %d != %d' % (path, len(a), len(b))
            for i, (x, y) in enumerate(zip(a, b)):
                why = self.eq(x, y, '%s[%d]' % (path, i))
                if why:
                    return why
            if isinstance(a, collections.deque) and a.maxlen != b.maxlen:
                return '%s: maxlen' % path
        elif isinstance(a, dict):
            if len(a) != len(b):
                return '%s: len %d != %d' % (path, len(a), len(b))
            if isinstance(a, collections.OrderedDict) and list(a.keys()) != list(b.keys()):
                return '%s: order differs' % path
            for k in a:
                if k not in b:
                    return '%s: key %r missing' % (path, k)
                why = self.eq(a[k], b[k], '%s[%r]' % (path, k))
                if why:
                    return why
            if isinstance(a, collections.defaultdict):
                why = self.eq(a.default_factory, b.default_factory, path + '.default_factory')
                if why:
                    return why
        elif not _has_identity(a):
            return None if a == b else '%s: %r != %r' % (path, a, b)
        # attributes of instances (also of list/dict subclasses)
        aa, ab = _attrs(a), _attrs(b)
        if not aa and not ab:
            return None
        return self.eq(aa, ab, path + '.')


def _attrs(x):
    d = {}
    if hasattr(x, '__dict__') and not isinstance(x, type):
        d.update(x.__dict__)
    for klass in type(x).__mro__:
        for s in getattr(klass, '__slots__', ()):
            if s in ('__dict__', '__weakref__'):
                continue
            if hasattr(x, s):
                d['slot:' + s] = getattr(x, s)
    return d


def compare(a, b):
    """None when a and b are deep-equal with the same sharing, else a reason."""
    try:
        return _Cmp().eq(a, b, '$')
    except RuntimeError as e:  # recursion
        return 'comparison failed: %r' % e


def check(path):
    ok, fails = 0, {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            key = '%s/p%d' % (e['name'], e['proto'])
            try:
                a = pickle.loads(binascii.unhexlify(e['orig']))
                b = pickle.loads(binascii.unhexlify(e['go']))
                why = compare(a, b)
            except Exception as ex:
                why = 'unpickling the Go pickle failed: %s: %s' % (type(ex).__name__, ex)
            if why:
                fails[key] = why
            else:
                ok += 1
    print(json.dumps({'ok': ok, 'fail': fails}))


if __name__ == '__main__':
    sys.setrecursionlimit(5000)
    if len(sys.argv) != 3 or sys.argv[1] not in ('write', 'check', 'check-loose'):
        sys.exit(__doc__)
    if sys.argv[1] == 'write':
        write(sys.argv[2])
    else:
        LOOSE_TEXT = sys.argv[1] == 'check-loose'
        check(sys.argv[2])
