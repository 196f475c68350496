package compat_tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sharedFlags are the --shared objects python_fixtures/mgr_shared.py expects.
var sharedFlags = []string{
	"get_dict=dict", "get_list=list", "get_namespace=Namespace", `get_value=Value("i", 0)`,
	`get_array=Array("d", [0.5, 1.5])`, "get_queue=Queue(10)", "get_lock=Lock", "get_rlock=RLock",
	"get_event=Event", "get_cond=Condition", "get_sem=Semaphore(2)", "get_barrier=Barrier(1)",
}

// TestServeCommandShared runs `mpgo serve --shared ...` and two Python processes of each version
// that reach the shared objects with register('get_dict') and register('get_dict',
// proxytype=DictProxy), the second seeing what the first left.
func TestServeCommandShared(t *testing.T) {
	bin := mpgoBinary(t)
	forEachPython(t, nil, func(t *testing.T, py python) {
		key := []byte("shared-key")
		keyFile := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(keyFile, key, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args := []string{"serve", "--address", "127.0.0.1:0", "--authkey-file", keyFile, "--log-level", "warn"}
		for _, f := range sharedFlags {
			args = append(args, "--shared", f)
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.WaitDelay = 5 * time.Second
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr lockedBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
		sc := bufio.NewScanner(stdout)
		var addr string
		var out []string
		for sc.Scan() {
			out = append(out, sc.Text())
			if a, ok := strings.CutPrefix(sc.Text(), "mpgo: serving on "); ok {
				addr = a
			}
			if strings.HasPrefix(sc.Text(), "    get_dict = m.get_dict();") {
				break
			}
		}
		go func() { drain(stdout); exited <- cmd.Wait() }()
		if addr == "" {
			t.Fatalf("no address printed\n%s\n%s", strings.Join(out, "\n"), stderr.String())
		}
		if text := strings.Join(out, "\n"); !strings.Contains(text, "SharedManager.register('get_dict', proxytype=DictProxy)") ||
			!strings.Contains(text, "SharedManager.register('Iterator', proxytype=IteratorProxy, create_method=False)") {
			t.Errorf("no snippet for get_dict:\n%s", text)
		}
		type result struct {
			QueueBefore     any `json:"queue_before"`
			Lock            []bool
			EventBefore     bool `json:"event_before"`
			Sem             []bool
			AutoDictIter    []string `json:"auto_dict_iter"`
			Dict            [][2]any
			DictIter        []string `json:"dict_iter"`
			List            []any
			NamespaceBefore any `json:"namespace_before"`
			Value           int
			Array           []float64
			Event           bool
			RLock           []bool
			CondWait        bool `json:"cond_wait"`
			Barrier         []int
		}
		fargs := append(tcpArgs(addr), "--authkey-hex", hexKey(key))
		var r1, r2 result
		runPythonJSON(t, py, &r1, "mgr_shared.py", append(fargs, "--round", "1")...)
		runPythonJSON(t, py, &r2, "mgr_shared.py", append(fargs, "--round", "2")...)
		for i, c := range []struct {
			got, want string
		}{
			{fmt.Sprint(r1.QueueBefore, r1.Lock, r1.EventBefore, r1.Sem), "<nil> [true false] false [true true false]"},
			{fmt.Sprint(r1.AutoDictIter, r1.Dict, r1.DictIter), "[auto1] [[auto1 1] [typed1 [1 1]]] [auto1 typed1]"},
			{fmt.Sprint(r1.List, r1.NamespaceBefore, r1.Value, r1.Array, r1.Event), "[1 t1] <nil> 11 [1.5 1.5] true"},
			{fmt.Sprint(r1.RLock, r1.CondWait), "[true true] false"},
			{fmt.Sprint(r2.QueueBefore, r2.EventBefore), "1 true"},
			{fmt.Sprint(r2.Dict, r2.DictIter), "[[auto1 1] [auto2 2] [typed1 [1 1]] [typed2 [2 2]]] [auto1 auto2 typed1 typed2]"},
			{fmt.Sprint(r2.List, r2.NamespaceBefore, r2.Value, r2.Array), "[1 t1 2 t2] 1 22 [2.5 1.5]"},
		} {
			if c.got != c.want {
				t.Errorf("check %d: got %s, want %s", i, c.got, c.want)
			}
		}
		if !py.IsPy2() && fmt.Sprint(r2.Barrier) != "[1 0]" {
			t.Errorf("barrier: %v", r2.Barrier)
		}
	})
}
