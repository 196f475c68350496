package pickle_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

// TestStdRegistryCorpus decodes the whole CPython corpus (2.7, 3.6 to 3.13,
// every protocol) with the standard registry: every datetime, date, time,
// timedelta, timezone, Decimal and Fraction becomes its Go type, and encoding
// the result at the same protocol gives a pickle that decodes to an equal
// value (and, except for a Fraction pickled by CPython 2.7 to 3.10, the same
// bytes as the generic object).
// A typed Unmarshal of every entry into any must agree with the registry-less
// decode too.
func TestStdRegistryCorpus(t *testing.T) {
	reg := pickle.StdRegistry()
	converted := map[string]int{}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 50 {
			return
		}
		switch x := v.(type) {
		case pickle.DateTime, pickle.Date, pickle.Time, pickle.TimeDelta, pickle.TimeZone, pickle.Decimal, pickle.Fraction, pickle.UUID:
			converted[reflect.TypeOf(x).Name()]++
			if dt, ok := x.(pickle.DateTime); ok && dt.TZInfo != nil {
				walk(dt.TZInfo, depth+1)
			}
		case *pickle.Object:
			if strings.HasPrefix(x.Class.Module, "datetime") || x.Class.Module == "decimal" || x.Class.Module == "fractions" {
				if _, ok := reg.Lookup(x.Class.Module, x.Class.Name); ok {
					t.Errorf("registered class %s left as *Object", x.Class)
				}
			}
		case *pickle.List:
			for _, it := range x.Items {
				walk(it, depth+1)
			}
		case pickle.Tuple:
			for _, it := range x {
				walk(it, depth+1)
			}
		}
	}
	for _, e := range pickle.LoadGolden(t) {
		data := e.Data
		var plain any
		if err := pickle.Unmarshal(data, &plain); err != nil {
			continue // the core's own corpus test reports decode failures
		}
		dec := pickle.NewDecoder(bytesReader(data))
		dec.SetRegistry(reg)
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Errorf("%s %s p%d: decode with StdRegistry: %v", e.File, e.Name, e.Proto, err)
			continue
		}
		walk(v, 0)
		py2 := strings.HasPrefix(e.File, "py2")
		var buf strings.Builder
		enc := pickle.NewEncoder(&buf)
		enc.SetProtocol(e.Proto)
		enc.SetPython2(py2)
		if err := enc.Encode(v); err != nil {
			t.Errorf("%s %s p%d: re-encode: %v", e.File, e.Name, e.Proto, err)
			continue
		}
		if _, isFr := v.(pickle.Fraction); isStd(v) && !isFr {
			// The Go type writes the same bytes as the generic *Object.
			var gbuf strings.Builder
			genc := pickle.NewEncoder(&gbuf)
			genc.SetProtocol(e.Proto)
			genc.SetPython2(py2)
			if err := genc.Encode(plain); err == nil && gbuf.String() != buf.String() {
				t.Errorf("%s %s p%d: Go type encodes as\n%x\n, the generic object as\n%x", e.File, e.Name, e.Proto, buf.String(), gbuf.String())
			}
		}
		dec = pickle.NewDecoder(strings.NewReader(buf.String()))
		dec.SetRegistry(reg)
		var back any
		if err := dec.Decode(&back); err != nil {
			t.Errorf("%s %s p%d: decode of re-encoded: %v", e.File, e.Name, e.Proto, err)
			continue
		}
		if isStd(v) && !reflect.DeepEqual(back, v) {
			t.Errorf("%s %s p%d: %#v re-encoded as %#v", e.File, e.Name, e.Proto, v, back)
		}
	}
	for _, name := range []string{"DateTime", "Date", "Time", "TimeDelta", "TimeZone", "Decimal", "Fraction"} {
		if converted[name] == 0 {
			t.Errorf("no %s in the corpus was converted (%v)", name, converted)
		}
	}
	t.Logf("converted: %v", converted)
}

func isStd(v any) bool {
	switch v.(type) {
	case pickle.DateTime, pickle.Date, pickle.Time, pickle.TimeDelta, pickle.TimeZone, pickle.Decimal, pickle.Fraction, pickle.UUID:
		return true
	}
	return false
}
