package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

func TestRunPickle(t *testing.T) {
	l := pickle.NewList(int64(1), "a", []byte("b"))
	l.Append(l)
	data, err := pickle.Marshal(pickle.Tuple{l, pickle.NewDict()})
	if err != nil {
		t.Fatal(err)
	}
	two := append(append([]byte{}, data...), data...)
	run := func(args []string, in []byte) (string, string, error) {
		var out, errOut bytes.Buffer
		err := runPickle(context.Background(), args, bytes.NewReader(in), &out, &errOut)
		return out.String(), errOut.String(), err
	}

	out, _, err := run([]string{"dis"}, data)
	if err != nil || !strings.HasPrefix(out, "    0: \\x80 PROTO      4\n") || !strings.HasSuffix(out, "highest protocol among opcodes = 4\n") {
		t.Fatalf("dis: %v\n%s", err, out)
	}
	out, _, err = run([]string{"json", "--compact"}, two)
	if want := "[[1,\"a\",{\"$bytes\":\"Yg==\"},{\"$ref\":\"/0\"}],{}]\n"; err != nil || out != want+want {
		t.Fatalf("json: %v\n%q", err, out)
	}
	out, _, err = run([]string{"recode", "-", "--protocol", "2"}, two)
	if err != nil {
		t.Fatal(err)
	}
	dec := pickle.NewDecoder(strings.NewReader(out))
	for i := range 2 {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("recoded pickle %d: %v", i, err)
		}
		got := v.(pickle.Tuple)[0].(*pickle.List)
		if got.Items[3] != any(got) {
			t.Fatal("recursion lost")
		}
	}
	if out[0] != 0x80 || out[1] != 2 {
		t.Fatalf("recode wrote protocol %d", out[1])
	}

	for _, args := range [][]string{{"-h"}, {"dis", "-h"}, {"recode", "--help"}} {
		if _, _, err := run(args, nil); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: err = %v, want flag.ErrHelp", args, err)
		}
	}
	var ue usageError
	for _, args := range [][]string{{}, {"nope"}, {"recode", "--protocol", "9"}, {"recode", "--python2", "--protocol", "4"}, {"dis", "a", "b"}} {
		if _, _, err := run(args, data); !errors.As(err, &ue) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	if _, _, err := run([]string{"dis"}, nil); err == nil {
		t.Error("empty input: no error")
	}
	if _, _, err := run([]string{"json"}, []byte("\x80\x04K")); err == nil {
		t.Error("truncated pickle: no error")
	}
}
