"""Classes for the pickle corpus (gen_pickle_corpus.py).

They live in an importable module so that a pickle written by one process
(Python) and re-encoded by another (Go) can be unpickled again. Stdlib only;
runs on Python 2.7 and 3.6 to 3.13.
"""
from __future__ import print_function

import datetime
import sys

PY2 = sys.version_info[0] == 2


class Plain(object):
    """An instance with a __dict__."""

    def __init__(self, a=None, b=None):
        self.a = a
        self.b = b


class Slotted(object):
    """An instance with __slots__ only."""
    __slots__ = ('x', 'y')

    def __init__(self, x=None, y=None):
        self.x = x
        self.y = y


class SlottedDict(object):
    """__slots__ plus a __dict__."""
    __slots__ = ('x', '__dict__')

    def __init__(self, x=None):
        self.x = x


class Reduced(object):
    """A custom __reduce__ with list and dict items."""

    def __init__(self, name, n):
        self.name = name
        self.n = n

    def __reduce__(self):
        return (Reduced, (self.name, self.n))


class WithState(object):
    """__getstate__ / __setstate__ with a tuple state."""

    def __init__(self, v=0):
        self.v = v
        self.cache = 'not pickled'

    def __getstate__(self):
        return (self.v, 'extra')

    def __setstate__(self, st):
        self.v = st[0]
        self.cache = 'restored'


class NewArgs(object):
    """__getnewargs__ (NEWOBJ with arguments at protocol 2+)."""

    def __new__(cls, a, b):
        self = object.__new__(cls)
        self.a = a
        self.b = b
        return self

    def __getnewargs__(self):
        return (self.a, self.b)


class NewArgsEx(object):
    """__getnewargs_ex__ (NEWOBJ_EX at protocol 4+)."""

    def __new__(cls, a, b=None):
        self = object.__new__(cls)
        self.a = a
        self.b = b
        return self

    def __getnewargs_ex__(self):
        return ((self.a,), {'b': self.b})


class ListSub(list):
    """A list subclass with an attribute (APPENDS onto an object)."""


class DictSub(dict):
    """A dict subclass with an attribute (SETITEMS onto an object)."""


class MyError(Exception):
    """An exception with an attribute."""


if PY2:
    class OldStyle:
        """A Python 2 classic class (INST/OBJ)."""

        def __init__(self, v=None):
            self.v = v

    class OldStyleInitArgs:
        """A classic class with __getinitargs__."""

        def __init__(self, a, b):
            self.a = a
            self.b = b

        def __getinitargs__(self):
            return (self.a, self.b)


class FixedTZ(datetime.tzinfo):
    """A fixed-offset tzinfo usable on Python 2.7."""

    def __init__(self, minutes=0, name='UTC'):
        self.minutes = minutes
        self.name = name

    def utcoffset(self, dt):
        return datetime.timedelta(minutes=self.minutes)

    def dst(self, dt):
        return datetime.timedelta(0)

    def tzname(self, dt):
        return self.name

    def __eq__(self, other):
        return isinstance(other, FixedTZ) and (self.minutes, self.name) == (other.minutes, other.name)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.minutes, self.name))


try:
    import enum

    class Color(enum.Enum):
        RED = 1
        GREEN = 'g'

    class Perm(enum.IntFlag if hasattr(enum, 'IntFlag') else enum.IntEnum):
        R = 4
        W = 2
except ImportError:  # Python 2.7
    Color = None
    Perm = None


class ProxyForm(object):
    """Pickles as multiprocessing.managers.RebuildProxy(AutoProxy, token, 'pickle', kwds).

    This is exactly what a manager proxy's __reduce__ produces; 'incref': False keeps the
    unpickler from connecting to the (non-existent) manager.
    """

    def __init__(self, token, exposed, func_name='AutoProxy'):
        self.token = token
        self.exposed = exposed
        self.func_name = func_name

    def __reduce__(self):
        from multiprocessing import managers
        func = getattr(managers, self.func_name)
        kwds = {'incref': False}
        if self.func_name == 'AutoProxy':
            kwds['exposed'] = self.exposed
        return (managers.RebuildProxy, (func, self.token, 'pickle', kwds))


import collections

Point = collections.namedtuple('Point', 'x y')
