// Package pyjson converts between the pickle value model (package
// github.com/mpgo/mpgo/pickle) and JSON, for people and scripts: it backs
// `mpgo pickle json`.
//
// # Value model to JSON
//
// [Marshal] writes the form of pickle.ToJSON (which the MarshalJSON methods
// of the value-model types use too):
//
//	Python (value model)          JSON
//	None (nil)                    null
//	bool                          true / false
//	int (int64, *big.Int)         a number, exactly (big ints too)
//	float (float64)               a number with a '.' or an exponent (1.0, 1e+20)
//	float nan, inf, -inf          {"$float": "nan"} / {"$float": "inf"} / {"$float": "-inf"}
//	complex (complex128)          {"$complex": [real, imag]}
//	str (string)                  a string; a lone surrogate is written as a \udXXX escape
//	Python 2 str (Py2String)      a string when it is valid UTF-8, else {"$bytes": base64}
//	bytes ([]byte)                {"$bytes": "<standard base64>"}
//	bytearray (ByteArray)         {"$bytearray": "<standard base64>"}
//	tuple (Tuple)                 an array
//	list (*List)                  an array
//	dict (*Dict), all keys str    an object, in insertion order
//	dict with other keys          {"$dict": [[key, value], ...]}
//	set (*Set)                    {"$set": [...]}
//	frozenset (FrozenSet)         {"$frozenset": [...]}
//	a global (Global)             {"$global": "module.Name"}
//	an object (*Object)           {"$class": "module.Name", "build": "reduce", "args": [...],
//	                               ("$class": null, "callable": ... when the callable of a
//	                               REDUCE is not a global, e.g. a functools.partial object)
//	                               "kwargs": {...}, "state": ..., "listitems": [...],
//	                               "dictitems": [[key, value], ...]}
//	                               (build is reduce, newobj, newobj_ex, inst or
//	                               reconstructor (copyreg._reconstructor); kwargs,
//	                               state, listitems and dictitems only when present)
//	a container seen before       {"$ref": "<JSON pointer of its first occurrence>"}
//
// Containers (list, dict, set, frozenset, tuple, object) are tracked by
// identity: the second and later occurrences of the same container, which
// include every cycle, are written as a $ref to the JSON pointer (RFC 6901)
// of the first one, e.g. {"$ref": ""} for a list that contains itself. Go
// values that are not of the value model are written through their
// pickle.Marshaler form when they have one (the std types of package pickle
// do), Go integer kinds as numbers; anything else is an error.
//
// # JSON to the value model
//
// [Unmarshal] reads JSON into the value model: null, booleans, strings,
// integers (int64, or *big.Int past 64 bits), numbers with a fraction or
// exponent (float64), arrays (*List) and objects (*Dict, in document
// order). It also reads back every "$" form above except $ref, so that the
// output of [Marshal] converts back to an equal value, except that tuples
// come back as lists (as dict keys and set members: tuples) and a lone
// surrogate escape comes back as that lone surrogate.
package pyjson
