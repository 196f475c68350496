package main

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/bench/internal/loadgen"
)

// TestWriteSVG: the chart is well-formed XML with one line per server in each workload's
// panel (the echo server's from its one workload) and a legend entry per server.
func TestWriteSVG(t *testing.T) {
	o := &options{conns: []int{1, 16, 256}, workloads: []loadgen.Workload{"queue", "dict"}}
	rep := &report{Go: map[string]map[string]*cellAgg{
		"mpgo":        {"queue/1": {OpsPerSec: 9000}, "queue/16": {OpsPerSec: 60000}, "queue/256": {OpsPerSec: 58000}, "dict/1": {OpsPerSec: 8000}, "dict/16": {OpsPerSec: 50000}, "dict/256": {OpsPerSec: 49000}},
		"cpython3.13": {"queue/1": {OpsPerSec: 5000}, "queue/16": {OpsPerSec: 9000}, "dict/1": {OpsPerSec: 5000}, "dict/16": {OpsPerSec: 8000}},
		"echo":        {"queue/1": {OpsPerSec: 20000}, "queue/16": {OpsPerSec: 90000}, "queue/256": {OpsPerSec: 88000}},
	}}
	var b strings.Builder
	writeSVG(&b, o, []string{"cpython3.13", "mpgo", "echo"}, rep)
	svg := b.String()
	d := xml.NewDecoder(strings.NewReader(svg))
	counts := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	// 3 servers x 2 panels; cpython3.13 has 2 points per panel, the others 3.
	if counts["polyline"] != 6 || counts["circle"] != 16 {
		t.Errorf("%d lines and %d points, want 6 and 16:\n%s", counts["polyline"], counts["circle"], svg)
	}
	for _, want := range []string{"queue: ops/s by connections", "dict: ops/s by connections", "echo (transport floor)", ">256<", "mpgo dict/16: 50.0k ops/s"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}
