package pyjson_test

import (
	"bufio"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mpgo/mpgo/internal/pyjson"
	"github.com/mpgo/mpgo/pickle"
)

// TestCorpus converts every pickle of the CPython golden corpus (2.7, 3.6 to
// 3.13, all protocols) to JSON: the result must be valid JSON that reads back
// and converts to the same JSON again.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob("../../pickle/testdata/golden/*.jsonl.gz")
	if len(files) == 0 {
		t.Skip("no golden corpus")
	}
	n := 0
	for _, fn := range files {
		f, err := os.Open(fn)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			var e struct {
				Name  string `json:"name"`
				Proto int    `json:"proto"`
				Hex   string `json:"hex"`
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			data, _ := hex.DecodeString(e.Hex)
			var v any
			if err := pickle.Unmarshal(data, &v); err != nil {
				continue
			}
			out, err := pyjson.Marshal(v)
			if err != nil {
				t.Errorf("%s %s p%d: %v", filepath.Base(fn), e.Name, e.Proto, err)
				continue
			}
			if !json.Valid(out) {
				t.Errorf("%s %s p%d: invalid JSON %s", filepath.Base(fn), e.Name, e.Proto, out)
				continue
			}
			back, err := pyjson.Unmarshal(out)
			if err != nil {
				// $ref (shared and recursive values) cannot be read back.
				continue
			}
			again, err := pyjson.Marshal(back)
			if err != nil || string(again) != string(out) {
				t.Errorf("%s %s p%d: JSON round trip differs:\n%s\n%s", filepath.Base(fn), e.Name, e.Proto, out, again)
			}
			n++
		}
		f.Close()
	}
	t.Logf("%d corpus values round-tripped through JSON", n)
}
