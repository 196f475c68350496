// Package pickle reads and writes Python pickles (protocols 0 to 5) and
// models Python values in Go, so that Go programs can exchange data with
// unchanged CPython 2.7 and 3.x programs (multiprocessing connections and
// managers in particular).
//
// Its surface is shaped like encoding/json: Marshal, Unmarshal, NewEncoder,
// NewDecoder, and the Marshaler and Unmarshaler interfaces. Decoding never
// calls, imports or executes anything named in a pickle: classes the
// package has no Go type for become data (*Object, Global) that encode back
// to an equal Python object. Hostile input is bounded (see Limits) and never
// panics. UnmarshalOwned decodes an input the caller hands over, its large
// bytes and str values sharing the input's memory instead of being copied
// (package connection uses it for received frames of 64 KiB or more).
//
// # Python to Go (decoding into any: the value model)
//
//	Python                                   Go
//	None                                     nil
//	bool                                     bool
//	int (and Python 2 long)                  int64, or *big.Int when it does not fit (always normalised)
//	Python 2 int beyond 32 bits (INT text)   Py2Int (so that it goes back to Python 2 as an int)
//	Python 2 long within 32 bits (LONG1)     Py2Long (so that it goes back to Python 2 as a long)
//	float                                    float64
//	complex                                  complex128
//	str (3.x) / unicode (2.x)                string (lone surrogates are kept as WTF-8 bytes)
//	str (2.x: STRING, BINSTRING, ...)        Py2String (the raw bytes)
//	bytes                                    []byte (also _codecs.encode(text, 'latin1') at protocols <= 2)
//	bytearray                                ByteArray
//	tuple                                    Tuple
//	list                                     *List
//	dict                                     *Dict (insertion ordered, Python key equality and hashing)
//	set                                      *Set
//	frozenset                                FrozenSet
//	a global used as a value (e.g. float)    Global{Module, Name}
//	anything else (instances, exceptions,    *Object{Class, Kind, Args, Kwargs, State, ListItems, DictItems},
//	  slice, datetime, Token, RebuildProxy)    unless a Registry maps the class to a Go type
//
// The value-model types print as Python's repr (fmt's %v and %s: String),
// and encode to JSON as `mpgo pickle json` writes them (MarshalJSON): a
// dict with str keys as an object, lists and tuples as arrays, other
// values in tagged forms such as {"$bytes": "<base64>"} (see the table of
// package internal/pyjson, repeated at MarshalJSON).
//
// Module names are normalised to Python 3 names when decoding (__builtin__
// and exceptions become builtins, Queue becomes queue, copy_reg becomes
// copyreg: CPython's Lib/_compat_pickle.py tables). Lists, dicts, sets and
// objects are pointers, so values shared in the pickle are shared in Go and
// cycles are cycles; re-encoding keeps both.
//
// # Go to Python (encoding)
//
// The value-model types encode as in the table above. Other Go values:
//
//	Go                                       Python
//	int, int8..int64, uint8..uint64, uintptr int
//	float32                                  float
//	complex64                                complex
//	[]any                                    list
//	map[string]any                           dict (keys sorted)
//	a type implementing Marshaler            whatever MarshalPickle returns
//	structs, other maps, slices, pointers    see Marshal (struct fields by `pickle:"name"` tags)
//
// At protocols 0 to 2 globals are written with their Python 2 names, as
// CPython's pickler does (fix_imports), and bytes are written as
// _codecs.encode(text, 'latin1'). A Py2String is a Python 2 str at protocols
// 0 to 2 and a str at 3 and above. In Python 2 mode (Encoder.SetPython2)
// ASCII strings and []byte are written as Python 2 str too.
//
// The encoder's output is byte for byte the output of CPython's C pickler
// (pickle.dumps) for the common values: scalars, strings, bytes, tuples,
// lists, dicts, sets, globals, objects, memo and frames.
//
// # Values pickled once
//
// A [Pickled] is one value already pickled: its opcodes, without the PROTO
// header, frames or STOP, and the dialect they were written in (protocol,
// Python 2 mode). An Encoder of the same dialect writes a Pickled by copying
// its opcodes into the pickle it writes, renumbering their memo references
// after the entries the pickle already has; an Encoder of another dialect
// decodes it and writes the value. Make one with [NewPickled] or
// [Encoder.EncodePickled]; store one with [Pickled.AppendBinary] and read it
// back with [ParsePickled], which checks the opcodes so that what it accepts
// splices safely. A manager queue keeps its items so.
//
// # Python semantics
//
// Equal, Hash, Compare, Repr, Str and TypeName give Python's ==, hash, <,
// repr(), str() and type names for value-model values, for code that
// implements Python objects in Go (a shared dict or list).
//
// Instances of classes the package has no Go type for (*Object) cannot run
// their class's __eq__, __hash__ or __lt__, so they follow one rule: two
// objects of the same class built the same way from equal arguments, equal
// state and equal list and dict items (what a pickle round trip of one
// value gives, at any protocol and from Python 2 or 3) are equal and hash
// equally, whatever their contents (a state dict holding lists included).
// So namedtuples, enum members, frozen dataclasses and other value-like
// classes work as dict keys, set members and in list.index/count/remove.
// Python differs where a class defines equality otherwise: two instances of
// a plain class are unequal there (identity), an IntEnum member equals its
// int. A namedtuple also equals, hashes and orders like the plain tuple of
// its fields, as in Python, when the pickle shows it is one: at protocols
// 0 and 1 copyreg._reconstructor(cls, tuple, fields) proves it; at protocol
// 2 and above a namedtuple is cls.__new__(cls, *fields) with no state, which
// is taken for a tuple when there are at least two fields (a one-field
// namedtuple is not: a str or int subclass instance pickles the same way;
// a complex subclass instance with no __dict__ is, wrongly, taken for the
// tuple (real, imag)). Ordering any other object is a *TypeError naming
// its class, since only the class's own code could order it.
//
// # Usage
//
//	data, err := pickle.Marshal(pickle.Tuple{"#RETURN", nil})
//	var v any
//	err = pickle.Unmarshal(data, &v)
//	t := v.(pickle.Tuple)
//
// See https://docs.python.org/3/library/pickle.html and
// https://docs.python.org/3/library/pickletools.html for the format.
package pickle
