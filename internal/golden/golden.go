package golden

import (
	"bufio"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Entry is one pickle of the corpus.
type Entry struct {
	File  string // the corpus file it came from, e.g. "py3.13.jsonl.gz"
	Name  string `json:"name"`  // the case, e.g. "dict_nested"
	Proto int    `json:"proto"` // the protocol it was pickled with
	Hex   string `json:"hex"`   // the pickle, as written in the file
	Data  []byte // the pickle
}

// Load reads every *.jsonl.gz file in dir. It fails tb when there is none
// or when a file does not read.
func Load(tb testing.TB, dir string) []Entry {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl.gz"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("golden: no corpus files in %s: %v", dir, err)
	}
	var out []Entry
	for _, fn := range files {
		entries, err := readFile(fn)
		if err != nil {
			tb.Fatalf("golden: %v", err)
		}
		out = append(out, entries...)
	}
	return out
}

func readFile(fn string) ([]Entry, error) {
	f, err := os.Open(fn)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	var out []Entry
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, err
		}
		e.File = filepath.Base(fn)
		if e.Data, err = hex.DecodeString(e.Hex); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
