package xmlrpc_test

import (
	"testing"

	"github.com/mpgo/mpgo/internal/xmlrpc"
	"github.com/mpgo/mpgo/pickle"
)

// FuzzUnmarshal checks that no input crashes the decoder, and that whatever decodes encodes
// again (unless it holds something Marshal refuses: a big integer, a character XML cannot
// carry) to a document that decodes to an equal value.
func FuzzUnmarshal(f *testing.F) {
	for _, g := range golden {
		f.Add([]byte(g.xml))
	}
	f.Add([]byte("<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>"))
	f.Add([]byte("<params><param><value><struct><member><name>k</name><value><array><data><value><i8>-1</i8></value><value><base64>aGk=</base64></value></data></array></value></member></struct></value></param></params>"))
	f.Add([]byte("<?xml version='1.0'?><!DOCTYPE x><params/>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		v, err := xmlrpc.Unmarshal(data)
		if err != nil {
			return
		}
		out, err := xmlrpc.Marshal(v)
		if err != nil {
			return
		}
		v2, err := xmlrpc.Unmarshal(out)
		if err != nil {
			t.Fatalf("re-encoded document does not decode: %v\n%q", err, out)
		}
		if !equalNaN(v, v2) {
			t.Fatalf("round trip: %s != %s", pickle.Repr(v), pickle.Repr(v2))
		}
	})
}

// equalNaN is pickle.Equal with NaN equal to itself.
func equalNaN(a, b any) bool {
	if pickle.Equal(a, b) {
		return true
	}
	return pickle.Repr(a) == pickle.Repr(b)
}
