package compat_tests

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
)

// syncServer is an in-process mpgo server with every SyncManager typeid registered.
type syncServer struct {
	host string
	port int
	key  []byte
}

// args renders the fixture arguments --host H --port P --authkey-hex K.
func (s syncServer) args() []string {
	return []string{"--host", s.host, "--port", strconv.Itoa(s.port), "--authkey-hex", hexKey(s.key)}
}

// startSyncServer starts a managers.Server with RegisterSyncManager on 127.0.0.1:0; it is shut
// down when the test ends.
func startSyncServer(t testing.TB) syncServer {
	t.Helper()
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: key})
	if err != nil {
		t.Fatal(err)
	}
	srv := &managers.Server{AuthKey: key, Registry: reg}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, managers.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	a := l.Addr().(*net.TCPAddr)
	return syncServer{host: a.IP.String(), port: a.Port, key: key}
}

// suiteResult is the JSON line of python_fixtures/cpython_manager_tests.py.
type suiteResult struct {
	Python       string         `json:"python"`
	Mode         string         `json:"mode"`
	Run          int            `json:"run"`
	Passed       int            `json:"passed"`
	Failed       int            `json:"failed"`
	Errors       int            `json:"errors"`
	Skipped      int            `json:"skipped"`
	NotInstalled []string       `json:"not_installed"`
	Problems     []suiteProblem `json:"problems"`
	Skips        []suiteProblem `json:"skips"`
}

type suiteProblem struct {
	Test   string `json:"test"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// suiteExclusion is a CPython manager test that cannot pass against a Go server, with the
// reason. Every one needs Python code executed inside the server process.
// TestManagersCPythonSuite reruns the Evidence tests against CPython's own SyncManager server,
// used the same way (connected, not started), and logs the outcome there.
type suiteExclusion struct {
	Test     *regexp.Regexp // test ids (as the fixture prints them)
	Reason   string
	Evidence string // --only pattern selecting the tests to rerun on CPython's server
}

var suiteExclusions = []suiteExclusion{
	{regexp.MustCompile(`^setUpClass \(WithManagerTestPool\)$`),
		"Pool runs Python functions in the server's worker processes; a Go server cannot (creating a Pool answers a #TRACEBACK saying so)",
		`WithManagerTestPool\.test_apply$`},
	{regexp.MustCompile(`^WithManagerTestPool\.`), // Python 2.7: test_main's Pool is None, each test fails
		"Pool runs Python functions in the server's worker processes; a Go server cannot",
		`WithManagerTestPool\.test_apply$`},
	{regexp.MustCompile(`^TestSyncManagerTypes\.test_pool$`),
		"Pool runs Python functions in the server's worker processes; a Go server cannot",
		`TestSyncManagerTypes\.test_pool$`},
	{regexp.MustCompile(`^WithManagerTestBarrier\.test_action$`),
		"Barrier(action=...) calls a Python callable inside the server; a Go server cannot (creating one answers a #TRACEBACK saying so)",
		`WithManagerTestBarrier\.test_action$`},
	{regexp.MustCompile(`^WithManagerTestZZZNumberOfObjects\.test_number_of_objects$`), // Python 2.7
		"expects exactly one live object, the Pool that test_main creates; with no Pool mpgo holds 0 objects (no leaked refcounts)",
		`WithManagerTestZZZNumberOfObjects\.test_number_of_objects$`},
}

func findExclusion(test string) *suiteExclusion {
	for i := range suiteExclusions {
		if suiteExclusions[i].Test.MatchString(test) {
			return &suiteExclusions[i]
		}
	}
	return nil
}

// TestManagersCPythonSuite runs CPython's own manager tests (test._test_multiprocessing: the
// classes whose ALLOWED_TYPES include 'manager', and TestSyncManagerTypes; on 2.7
// test.test_multiprocessing's WithManager* classes) of every installed Python against an
// in-process mpgo server, and fails on any failure not in suiteExclusions.
func TestManagersCPythonSuite(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		srv := startSyncServer(t)
		var res suiteResult
		runPythonJSON(t, py, &res, "cpython_manager_tests.py", srv.args()...)
		t.Logf("%s against mpgo: run=%d passed=%d failed=%d errors=%d skipped=%d (not installed, they start their own CPython manager: %s)",
			py.Name(), res.Run, res.Passed, res.Failed, res.Errors, res.Skipped, strings.Join(res.NotInstalled, ", "))
		for _, s := range res.Skips {
			t.Logf("  skipped by CPython's suite: %s: %s", s.Test, s.Reason)
		}
		if res.Run == 0 {
			t.Fatalf("%s: no test ran", py.Name())
		}
		excluded := map[*suiteExclusion][]string{}
		for _, p := range res.Problems {
			if ex := findExclusion(p.Test); ex != nil {
				excluded[ex] = append(excluded[ex], p.Test)
				t.Logf("  excluded %s (%s): %s\n    reason: %s", p.Test, p.Kind, p.Reason, ex.Reason)
				continue
			}
			t.Errorf("%s: %s %s: %s", py.Name(), p.Test, p.Kind, p.Reason)
		}
		if len(excluded) == 0 {
			return
		}
		// The same tests against CPython's own server, connected the same way.
		var pats []string
		for ex := range excluded {
			pats = append(pats, ex.Evidence)
		}
		sort.Strings(pats)
		var cres suiteResult
		runPythonJSON(t, py, &cres, "cpython_manager_tests.py", "--cpython-server", "--only", strings.Join(pats, "|"))
		t.Logf("  the excluded tests on CPython's own SyncManager server (connected, not started): run=%d passed=%d failed=%d errors=%d",
			cres.Run, cres.Passed, cres.Failed, cres.Errors)
		for ex, tests := range excluded {
			ev := regexp.MustCompile(ex.Evidence)
			verdict := "passes on CPython's server when connected (the Python code runs there)"
			for _, p := range cres.Problems {
				if ev.MatchString(p.Test) || ex.Test.MatchString(p.Test) {
					verdict = fmt.Sprintf("fails on CPython too when connected: %s", p.Reason)
				}
			}
			t.Logf("  %s (%d on mpgo): on CPython: %s", ex.Test, len(tests), verdict)
		}
	})
}
