package xmlrpc_test

import (
	"testing"

	"github.com/mpgo/mpgo/internal/xmlrpc"
	"github.com/mpgo/mpgo/pickle"
)

// benchRequest is a typical method call of an xmlrpclib manager client: a queue put of a small
// record.
var benchRequest = pickle.Tuple{"7f3a2c1b0e10", "put", pickle.Tuple{dict("id", int64(42), "name", "job 42", "tags", pickle.NewList("a", "b"), "score", 0.5)}, pickle.NewDict()}

func BenchmarkMarshal(b *testing.B) {
	var buf []byte
	for b.Loop() {
		var err error
		buf, err = xmlrpc.AppendMarshal(buf[:0], benchRequest)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkUnmarshal(b *testing.B) {
	doc, err := xmlrpc.Marshal(benchRequest)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := xmlrpc.Unmarshal(doc); err != nil {
			b.Fatal(err)
		}
	}
}
