package compat_tests

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

type corpusEntry struct {
	Name  string `json:"name"`
	Proto int    `json:"proto"`
	Hex   string `json:"hex"`
}

type corpusCheck struct {
	Name  string `json:"name"`
	Proto int    `json:"proto"`
	Orig  string `json:"orig"`
	Go    string `json:"go"`
}

// TestPickleCorpusRoundTrip: every interpreter pickles its corpus (python_fixtures/
// gen_pickle_corpus.py) at every protocol it supports; Go decodes each pickle and encodes it again
// at the same protocol and at protocol 2; the same interpreter unpickles
// both and compares them deep-equal, including which parts are shared and which are cycles.
func TestPickleCorpusRoundTrip(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) { corpusRoundTrip(t, py, false) })
}

// TestPickleCorpusPython2Mode: Python 2.7's corpus, re-encoded by an Encoder in Python 2 mode
// (protocol 2, ASCII text as str), unpickles in 2.7 to equal values (str and unicode compare equal).
func TestPickleCorpusPython2Mode(t *testing.T) {
	forEachPython(t, func(py python) string {
		if !py.IsPy2() {
			return "Python 2 mode is for Python 2"
		}
		return ""
	}, func(t *testing.T, py python) { corpusRoundTrip(t, py, true) })
}

func corpusRoundTrip(t *testing.T, py python, py2mode bool) {
	t.Parallel()
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl")
	runPython(t, py, "gen_pickle_corpus.py", "write", corpus)
	entries := readCorpus(t, corpus)
	if len(entries) < 100 {
		t.Fatalf("corpus has only %d entries", len(entries))
	}
	var checks []corpusCheck
	keyOf := map[string]string{}
	goFail := map[string]string{}
	for _, e := range entries {
		// the same protocol, and protocol 2 (what a Go server may answer
		// any client with, Python 2 names included)
		protos := []int{e.Proto}
		if py2mode {
			protos = []int{2}
		} else if e.Proto != 2 {
			protos = append(protos, 2)
		}
		for _, p := range protos {
			key := fmt.Sprintf("%s/p%d", e.Name, e.Proto)
			if p != e.Proto {
				key = fmt.Sprintf("%s/p%dto%d", e.Name, e.Proto, p)
			}
			data, _ := hex.DecodeString(e.Hex)
			var v any
			if err := pickle.Unmarshal(data, &v); err != nil {
				goFail[key] = "decode: " + err.Error()
				continue
			}
			enc := pickle.NewEncoder(nil)
			enc.SetProtocol(p)
			enc.SetPython2(py2mode)
			out, err := enc.AppendEncode(nil, v)
			if err != nil {
				goFail[key] = "encode: " + err.Error()
				continue
			}
			// the checker keys results by name/proto: make the name unique per target protocol
			name := e.Name
			if p != e.Proto {
				name = fmt.Sprintf("%s/p%dto%d", e.Name, e.Proto, p)
			}
			keyOf[fmt.Sprintf("%s/p%d", name, e.Proto)] = key
			checks = append(checks, corpusCheck{Name: name, Proto: e.Proto, Orig: e.Hex, Go: hex.EncodeToString(out)})
		}
	}
	checkFile := filepath.Join(dir, "check.jsonl")
	f, err := os.Create(checkFile)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, c := range checks {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var res struct {
		OK   int               `json:"ok"`
		Fail map[string]string `json:"fail"`
	}
	mode := "check"
	if py2mode {
		mode = "check-loose"
	}
	runPythonJSON(t, py, &res, "gen_pickle_corpus.py", mode, checkFile)
	for k, why := range res.Fail {
		if key, ok := keyOf[k]; ok {
			goFail[key] = why
		} else {
			goFail[k] = why
		}
	}
	keys := make([]string, 0, len(goFail))
	for k := range goFail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Run(k, func(t *testing.T) { t.Error(goFail[k]) })
	}
	t.Logf("%s: %d of %d round trips equal", py.Name(), res.OK, len(checks)+len(goFail)-len(res.Fail))
}

func readCorpus(t *testing.T, path string) []corpusEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var e corpusEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
