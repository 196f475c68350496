package main

import (
	"bytes"
	"math/big"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

// TestCallJSON: `mpgo call` reads arguments and prints --json results with internal/pyjson's
// mapping (the one `mpgo pickle json` uses).
func TestCallJSON(t *testing.T) {
	args := []struct {
		name, in string
		lenient  bool
		want     any
	}{
		{"int", "5", false, int64(5)},
		{"big int", "123456789012345678901234567890", false, mustBig("123456789012345678901234567890")},
		{"float", "1.5", false, 1.5},
		{"null", "null", false, nil},
		{"list", `[1, "a", null]`, false, pickle.NewList(int64(1), "a", nil)},
		{"bytes form", `{"$bytes": "aGk="}`, false, []byte("hi")},
		{"not JSON is a string", "hello", true, "hello"},
	}
	for _, tc := range args {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jsonArg(tc.in, tc.lenient)
			if err != nil {
				t.Fatal(err)
			}
			if !pickle.Equal(got, tc.want) || pickle.TypeName(got) != pickle.TypeName(tc.want) {
				t.Fatalf("jsonArg(%s) = %s, want %s", tc.in, pickle.Repr(got), pickle.Repr(tc.want))
			}
		})
	}
	t.Run("object keeps document order", func(t *testing.T) {
		got, err := jsonArg(`{"b": 1, "a": 2, "c": 3}`, false)
		if err != nil {
			t.Fatal(err)
		}
		if r := pickle.Repr(got); r != "{'b': 1, 'a': 2, 'c': 3}" {
			t.Fatalf("got %s", r)
		}
	})
	t.Run("strict rejects non-JSON", func(t *testing.T) {
		if _, err := jsonTuple("--create-args", "[1,"); err == nil {
			t.Fatal("no error")
		}
		if _, err := jsonKwargs("--kwargs", "[1]"); err == nil {
			t.Fatal("a list accepted as kwargs")
		}
	})
	t.Run("result", func(t *testing.T) {
		var b bytes.Buffer
		d := pickle.NewDict()
		d.Set("k", pickle.Tuple{[]byte("hi"), int64(1)})
		if err := printResult(&b, d, true); err != nil {
			t.Fatal(err)
		}
		if got, want := strings.TrimSpace(b.String()), `{"k":[{"$bytes":"aGk="},1]}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

func mustBig(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return b
}
