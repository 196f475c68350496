package pickle

import "strconv"

// The value-model types print as Python's repr() through fmt (%v and %s),
// so that fmt.Println of a dict a Python client put shows {'id': 1}.

// String returns Python's repr of the list: [1, 'a'].
func (l *List) String() string {
	if l == nil {
		return "<nil>"
	}
	return Repr(l)
}

// String returns Python's repr of the dict: {'id': 1}.
func (d *Dict) String() string {
	if d == nil {
		return "<nil>"
	}
	return Repr(d)
}

// String returns Python's repr of the set: {1, 2}, or set().
func (s *Set) String() string {
	if s == nil {
		return "<nil>"
	}
	return Repr(s)
}

// String returns Python's repr of the frozenset: frozenset({1, 2}).
func (f FrozenSet) String() string { return Repr(f) }

// String returns Python's repr of the tuple: (1, 'a'), or (1,).
func (t Tuple) String() string { return Repr(t) }

// String returns Python's repr of the bytearray: bytearray(b'abc').
func (b ByteArray) String() string { return Repr(b) }

// String returns a Python-like repr of the object (see Repr), for example
// __main__.Point(5, 6) or KeyError('x').
func (o *Object) String() string {
	if o == nil {
		return "<nil>"
	}
	return Repr(o)
}

// String returns the decimal form of the int.
func (n Py2Int) String() string { return strconv.FormatInt(int64(n), 10) }

// String returns the decimal form of the long (Python 3's repr, without
// Python 2's L suffix).
func (n Py2Long) String() string { return strconv.FormatInt(int64(n), 10) }
