package loadgen

import (
	"encoding/hex"
	"slices"
	"testing"
	"time"
)

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want []string
	}{
		// CPython 3.13 ('#RETURN', None) and (None, 'dummy', (), {}) from PROTOCOL.md 4.7.
		{"return313", "8004950e000000000000008c072352455455524e944e86942e", []string{"#RETURN"}},
		{"dummy313", "8004951000000000000000284e8c0564756d6d7994297d9474942e", []string{"dummy"}},
		// CPython 2.7 ('#RETURN', None).
		{"return27", "800255072352455455524e71014e8671022e", []string{"#RETURN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := hex.DecodeString(tt.hex)
			got, err := Strings(p, 10)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("Strings = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	p := Request("7f00ab", "put", Payload)
	got, err := Strings(p, 10)
	if err != nil || !slices.Equal(got, []string{"7f00ab", "put", Payload}) {
		t.Fatalf("Strings(Request) = %q, %v", got, err)
	}
	if p[0] != 0x80 || p[1] != 4 || p[2] != 0x95 || p[len(p)-1] != '.' {
		t.Fatalf("not a framed protocol-4 pickle: % x", p)
	}
	if f := Frame(p); len(f) != len(p)+4 || int(f[3]) != len(p) {
		t.Fatalf("Frame header % x", f[:4])
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.04 || d > 0.04 {
			t.Errorf("Quantile(%v) = %v, want %v ±4%%", c.q, got, c.want)
		}
	}
	if h.Count() != 1000 || h.Max() != time.Millisecond {
		t.Errorf("Count %d Max %v", h.Count(), h.Max())
	}
	for v := uint64(0); v < 1<<20; v = v*2 + 1 {
		if b := bucket(v); b >= histBuckets {
			t.Fatalf("bucket(%d) = %d out of range", v, b)
		}
	}
	if b := bucket(^uint64(0)); b >= histBuckets {
		t.Fatalf("bucket(max) = %d out of range", b)
	}
}
