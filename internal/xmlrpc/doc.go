// Package xmlrpc encodes and decodes the XML-RPC documents that CPython's
// multiprocessing exchanges when a manager uses serializer='xmlrpclib'
// (multiprocessing.connection.XmlListener and XmlClient).
//
// Such a connection authenticates like any other (the HMAC handshake on the
// raw connection) and then carries, in the usual length-prefixed frames,
// xmlrpclib.dumps((obj,), None, None, None, 1): a bare <params> document with
// one <param>, no XML declaration and no <methodResponse> around it (2.7 and
// 3.6-3.13 alike), read back with xmlrpclib.loads(s)[0][0]. [Marshal] writes
// exactly what CPython writes for the same value; [Unmarshal] reads that, and
// also a document wrapped in <methodResponse>, and a <fault> (returned as a
// [*Fault] error).
//
// # Value mapping
//
// Values are those of package pickle's value model, as far as XML-RPC can
// carry them:
//
//	XML-RPC                     Go (decoding)         Go (encoding)
//	<nil/>                      nil                   nil
//	<boolean>                   bool                  bool
//	<int> <i4> <i8> <i1> <i2>   int64 (*big.Int when  int64 and the other Go integer types, *big.Int:
//	  <biginteger>                it does not fit)      <int> within 32 bits (what CPython writes and
//	                                                    accepts), <i8> within 64 bits (every CPython
//	                                                    since 2.7 reads it); larger: an error
//	<double> <float>            float64               float64, float32 (Python's repr)
//	<string>, bare text         string                string, pickle.Py2String (UTF-8)
//	<base64>                    []byte                []byte, pickle.ByteArray
//	<array>                     *pickle.List          *pickle.List, pickle.Tuple, []any
//	<struct>                    *pickle.Dict (str     *pickle.Dict and map[string]any with str keys
//	                              keys)
//	<dateTime.iso8601>          DateTime              DateTime
//
// As in CPython, a tuple arrives as a list, dict keys must be strings, and
// anything else (sets, complex numbers, objects, proxies, exceptions, cyclic
// containers) cannot be encoded: Marshal returns an [*UnsupportedTypeError]
// or [*UnsupportedValueError] whose text is the TypeError or OverflowError
// CPython's xmlrpclib raises. Values that implement pickle.Marshaler are
// encoded as the value MarshalPickle returns.
//
// Strings are escaped as CPython escapes them (&amp; &lt; &gt;), and a
// carriage return is written as &#13; so that it survives XML's line-end
// normalisation (CPython writes it raw, and its reader turns "\r\n" into
// "\n"). Characters XML 1.0 cannot carry at all (most C0 controls, lone
// surrogates, invalid UTF-8) are an error instead of a document Python's
// parser would reject.
//
// # Hostile input
//
// Unmarshal never panics and its cost is linear in the input: it reads the
// document with encoding/xml's tokenizer in strict mode (which checks
// well-formedness, character ranges and entity references, and expands only
// the five predefined entities and character references), refuses DOCTYPE
// declarations (so no entity expansion attack can be declared), checks the
// XML-RPC structure as it goes, and limits nesting to [MaxDepth] arrays and
// structs. The caller bounds the input size (the frame size limit).
// encoding/xml over a hand-written parser: it is the standard library's
// well-tested tokenizer, and the structure check on top of it is small.
//
// See https://docs.python.org/3/library/xmlrpc.client.html and
// http://xmlrpc.com/spec.md.
package xmlrpc
