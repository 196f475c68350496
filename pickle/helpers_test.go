package pickle_test

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func encodeWith(t testing.TB, v any, proto int, py2 bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := pickle.NewEncoder(&buf)
	enc.SetProtocol(proto)
	enc.SetPython2(py2)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

// reflectNew returns a pointer to a new zero value of v's type.
func reflectNew(v any) any { return reflect.New(reflect.TypeOf(v)).Interface() }

// equalStd compares values of the standard types (which hold comparable
// fields only).
func equalStd(a, b any) bool { return a == b }
