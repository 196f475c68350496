package compat_tests

import (
	"encoding/json"
	"testing"
)

// TestManagersSyncCrossProcess runs python_fixtures/sync_crossproc.py against an in-process
// mpgo server for every installed Python (2.7 included; Barrier is Python 3 only): 8 processes
// incrementing a dict entry under a shared Lock and RLock, a Condition waking waiters in other
// processes (notify_all, then notify(1) one at a time), a Barrier of 5 parties passed three
// times, and a JoinableQueue drained by 4 workers. Counts must be exact and nothing may hang.
// dead_holder checks what a client that dies holding locks leaves behind: both stay held; the
// Lock can be released by another client, the RLock (owned by the dead connection) cannot. (On
// CPython the RLock's owner is a server thread ident, which a later connection's thread may
// reuse and so inherit the lock by accident; mpgo's caller identities are never reused.)
func TestManagersSyncCrossProcess(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		srv := startSyncServer(t)
		for _, scenario := range []string{"lock_counter", "condition", "barrier", "joinable_queue", "dead_holder"} {
			t.Run(scenario, func(t *testing.T) {
				if scenario == "barrier" && py.IsPy2() {
					t.Skip("Python 2.7's SyncManager has no Barrier")
				}
				var res map[string]any
				runPythonJSON(t, py, &res, "sync_crossproc.py", append(srv.args(), "--scenario", scenario)...)
				line, _ := json.Marshal(res)
				if ok, _ := res["ok"].(bool); !ok {
					t.Fatalf("%s %s: %s", py.Name(), scenario, line)
				}
				t.Logf("%s", line)
			})
		}
	})
}
