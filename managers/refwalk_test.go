package managers

import (
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

// TestRefWalkSharedTuples: a tuple DAG with 2^64 paths (a pickle of a few hundred bytes can
// hold one) is walked once per tuple, by both walkers, and comes back as it went in.
func TestRefWalkSharedTuples(t *testing.T) {
	dag := pickle.Tuple{}
	list := []any{}
	for range 64 {
		dag = pickle.Tuple{dag, dag}
		list = []any{list, list, dag}
	}
	s := &Server{}
	s.init()
	args, _ := s.resolveRefs(pickle.Tuple{dag, list}, nil, nil)
	if len(args) != 2 || !sameSlice(args[0].(pickle.Tuple), dag) || !sameSlice(args[1].([]any), list) {
		t.Fatal("resolveRefs changed a value without proxies")
	}
	c := &serverConn{srv: s}
	out, err := c.rewriteRefs(pickle.Tuple{dag, list})
	if err != nil {
		t.Fatal(err)
	}
	if o := out.(pickle.Tuple); !sameSlice(o[0].(pickle.Tuple), dag) || !sameSlice(o[1].([]any), list) {
		t.Fatal("rewriteRefs changed a value without refs")
	}
}

func sameSlice[T ~[]any](a, b T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
