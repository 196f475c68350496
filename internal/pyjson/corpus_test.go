package pyjson_test

import (
	"encoding/json"
	"testing"

	"github.com/mpgo/mpgo/internal/golden"
	"github.com/mpgo/mpgo/internal/pyjson"
	"github.com/mpgo/mpgo/pickle"
)

// TestCorpus converts every pickle of the CPython golden corpus (2.7, 3.6 to
// 3.13, all protocols) to JSON: the result must be valid JSON that reads back
// and converts to the same JSON again.
func TestCorpus(t *testing.T) {
	n := 0
	for _, e := range golden.Load(t, "../../pickle/testdata/golden") {
		var v any
		if err := pickle.Unmarshal(e.Data, &v); err != nil {
			continue
		}
		out, err := pyjson.Marshal(v)
		if err != nil {
			t.Errorf("%s %s p%d: %v", e.File, e.Name, e.Proto, err)
			continue
		}
		if !json.Valid(out) {
			t.Errorf("%s %s p%d: invalid JSON %s", e.File, e.Name, e.Proto, out)
			continue
		}
		back, err := pyjson.Unmarshal(out)
		if err != nil {
			// $ref (shared and recursive values) cannot be read back.
			continue
		}
		again, err := pyjson.Marshal(back)
		if err != nil || string(again) != string(out) {
			t.Errorf("%s %s p%d: JSON round trip differs:\n%s\n%s", e.File, e.Name, e.Proto, out, again)
		}
		n++
	}
	t.Logf("%d corpus values round-tripped through JSON", n)
}
