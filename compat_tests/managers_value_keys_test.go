package compat_tests

import (
	"encoding/json"
	"testing"
)

// TestManagersValueKeys runs python_fixtures/value_keys.py against an in-process mpgo server for
// every installed Python: instances of the client's classes (namedtuple, enum member, frozen
// dataclass, a value-like plain class) work as keys of a shared dict and items of a shared list
// as in Python (d[k], get, pop, setdefault, in, index, count, remove), a namedtuple equals its
// plain tuple and sorts like one, and sorting instances of a plain class is a TypeError naming
// the class. The ints scenario checks that Python 2 ints and longs (2**40 as int, 5L as long)
// keep their type through a queue between two connections, and Python 3 ints stay ints.
func TestManagersValueKeys(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		srv := startSyncServer(t)
		for _, scenario := range []string{"keys", "ints"} {
			t.Run(scenario, func(t *testing.T) {
				var res map[string]any
				runPythonJSON(t, py, &res, "value_keys.py", append(srv.args(), "--scenario", scenario)...)
				line, _ := json.Marshal(res)
				if ok, _ := res["ok"].(bool); !ok {
					t.Fatalf("%s %s: %s", py.Name(), scenario, line)
				}
				t.Logf("%s", line)
			})
		}
	})
}
