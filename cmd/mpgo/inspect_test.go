package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/pickle"
)

// startServeInProcess runs the serve command in-process until the test ends and returns the
// manager's address.
func startServeInProcess(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, append([]string{"--address", "127.0.0.1:0", "--log-level", "error"}, args...), stdio{out: pw, err: io.Discard})
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	sc := bufio.NewScanner(pr)
	var addr string
	for addr == "" && sc.Scan() {
		addr, _ = strings.CutPrefix(sc.Text(), "mpgo: serving on ")
	}
	go io.Copy(io.Discard, pr)
	if addr == "" {
		t.Fatal("serve printed no address")
	}
	return addr
}

// TestInspectTable: inspect lists a server's objects in an aligned table, with the depth of
// each queue.
func TestInspectTable(t *testing.T) {
	addr := startServeInProcess(t, "--authkey", "k", "--queue", "jobs")
	ctx := t.Context()
	m := &pymock.Manager{Dial: pymock.TCP("tcp", addr), Key: []byte("k"), Version: pymock.Py313}
	defer m.Close()
	jobs, _, err := m.Create(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if r, err := m.Call(ctx, jobs, "put", pickle.Tuple{v}, nil); err != nil || r.Kind != "#RETURN" {
			t.Fatalf("put: %v %v", r, err)
		}
	}
	d := pickle.NewDict()
	d.Set("tab", "a\tb")
	dict, _, err := m.Create(ctx, "dict", d)
	if err != nil {
		t.Fatal(err)
	}

	var out strings.Builder
	if err := runInspect(ctx, []string{"--address", addr, "--authkey", "k"}, stdio{out: &out, err: io.Discard}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 || lines[0] != "number_of_objects: 2" {
		t.Fatalf("inspect output:\n%s", out.String())
	}
	header, queueRow, dictRow := lines[1], lines[2], lines[3]
	if !strings.HasPrefix(queueRow, jobs) {
		queueRow, dictRow = dictRow, queueRow
	}
	if f := strings.Fields(queueRow); len(f) != 4 || f[0] != jobs || f[1] != "1" || f[2] != "managers.Queue" || f[3] != "3" {
		t.Errorf("queue row %q", queueRow)
	}
	if !strings.HasPrefix(dictRow, dict) || !strings.HasSuffix(dictRow, `{'tab': 'a\tb'}`) {
		t.Errorf("dict row %q", dictRow)
	}
	for _, col := range []string{"REFCOUNT", "TYPE", "QSIZE"} { // aligned: values start under their headers
		i := strings.Index(header, col)
		if i < 0 || queueRow[i] == ' ' || queueRow[i-1] != ' ' || dictRow[i] == ' ' || dictRow[i-1] != ' ' {
			t.Errorf("column %s not aligned:\n%s\n%s\n%s", col, header, queueRow, dictRow)
		}
	}
	if strings.HasSuffix(queueRow, " ") {
		t.Errorf("trailing blanks: %q", queueRow)
	}

	out.Reset()
	if err := runInspect(ctx, []string{"--address", addr, "--authkey", "k", "--json"}, stdio{out: &out, err: io.Discard}); err != nil {
		t.Fatal(err)
	}
	var js struct {
		NumberOfObjects int `json:"number_of_objects"`
		Objects         []inspected
	}
	if err := json.Unmarshal([]byte(out.String()), &js); err != nil || js.NumberOfObjects != 2 || len(js.Objects) != 2 {
		t.Fatalf("--json: %v\n%s", err, out.String())
	}
}

// TestParseDebugInfo: CPython's debug_info, Python 2's instance reprs and a str over lines.
func TestParseDebugInfo(t *testing.T) {
	info := "  7f1:       refcount=2\n    <queue.Queue object at 0x7f3a2c1d0>\n" +
		"  7f2:       refcount=1\n    <Queue.Queue instance at 0x7f3a2c1e0>\n" +
		"  7f3:       refcount=1\n    line one\nline two"
	got := parseDebugInfo(info)
	want := []inspected{
		{Ident: "7f1", RefCount: 2, Type: "queue.Queue", Str: "<queue.Queue object at 0x7f3a2c1d0>"},
		{Ident: "7f2", RefCount: 1, Type: "Queue.Queue", Str: "<Queue.Queue instance at 0x7f3a2c1e0>"},
		{Ident: "7f3", RefCount: 1, Str: "line one\nline two"},
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("object %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if parseDebugInfo("") != nil {
		t.Error("objects in an empty debug_info")
	}
}
