package pickle

import (
	"bytes"
	"testing"
	"testing/iotest"
)

func addGoldenSeeds(f *testing.F) {
	for _, e := range loadGolden(f) {
		if len(e.Data) <= 4096 {
			f.Add(e.Data)
		}
	}
	for _, s := range []string{"N.", "(lp0\ng0\na.", "\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01\x94.", "V\\ud800\n."} {
		f.Add([]byte(s))
	}
}

// FuzzUnmarshal: no input panics or hangs; whatever decodes encodes again
// (protocol 4) and decodes to the same value, sharing included; the Python
// semantics helpers accept it.
func FuzzUnmarshal(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := Unmarshal(data, &v); err != nil {
			return
		}
		_ = Repr(v)
		_ = Str(v)
		_, _ = Hash(v)
		_, _ = Compare(v, v)
		_ = Equal(v, v)
		out, err := Marshal(v)
		if err != nil {
			t.Fatalf("decoded %s but cannot encode it: %v", Repr(v), err)
		}
		var w any
		if err := Unmarshal(out, &w); err != nil {
			t.Fatalf("re-encoding does not decode: %v\n%x", err, out)
		}
		if !sameValue(v, w) {
			t.Fatalf("round trip differs:\n%s\n%s", Repr(v), Repr(w))
		}
		// other protocols must not fail on what protocol 4 accepts, except
		// for names that have no protocol 0-3 form
		for _, p := range []int{0, 2, 3, 5} {
			enc := NewEncoder(nil)
			enc.SetProtocol(p)
			if out, err := enc.AppendEncode(nil, v); err == nil {
				if err := Unmarshal(out, &w); err != nil {
					t.Fatalf("protocol %d output does not decode: %v\n%x", p, err, out)
				}
			}
		}
	})
}

// FuzzDecoderStream: the streaming decoder reading one byte at a time, and
// UnmarshalOwned, agree with Unmarshal.
func FuzzDecoderStream(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var v, w any
		err1 := Unmarshal(data, &v)
		err2 := NewDecoder(iotest.OneByteReader(bytes.NewReader(data))).Decode(&w)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Unmarshal: %v, Decoder: %v", err1, err2)
		}
		if err1 == nil && !sameValue(v, w) {
			t.Fatalf("differ: %s vs %s", Repr(v), Repr(w))
		}
		// UnmarshalOwned (bytes values share the input) agrees too
		var x any
		err3 := UnmarshalOwned(bytes.Clone(data), &x)
		if (err1 == nil) != (err3 == nil) {
			t.Fatalf("Unmarshal: %v, UnmarshalOwned: %v", err1, err3)
		}
		if err1 == nil && !sameValue(v, x) {
			t.Fatalf("owned differs: %s vs %s", Repr(v), Repr(x))
		}
	})
}
