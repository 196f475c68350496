package compat_tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// monitoredServer is an `mpgo serve --http` process with the named queues jobs and release.
type monitoredServer struct {
	addr string // the manager's HOST:PORT
	url  string // the HTTP listener's base URL, ending in "/"
	key  []byte
}

// startMonitoredServer runs `mpgo serve --queue jobs --queue release --http 127.0.0.1:0` until
// the test ends.
func startMonitoredServer(t *testing.T) *monitoredServer {
	t.Helper()
	s := &monitoredServer{key: []byte("monitor-key")}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, mpgoBinary(t), "serve", "--address", "127.0.0.1:0", "--authkey-hex", hexKey(s.key),
		"--queue", "jobs", "--queue", "release", "--http", "127.0.0.1:0", "--log-level", "warn")
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
		cancel()
		<-exited
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && (s.addr == "" || s.url == "") {
		if a, ok := strings.CutPrefix(sc.Text(), "mpgo: serving on "); ok {
			s.addr = a
		}
		if rest, ok := strings.CutPrefix(sc.Text(), "mpgo: status page on "); ok {
			s.url, _, _ = strings.Cut(rest, " ")
		}
	}
	go func() { drain(stdout); exited <- cmd.Wait() }()
	if s.addr == "" || s.url == "" {
		t.Fatalf("mpgo serve printed no manager or HTTP address\n%s", stderr.String())
	}
	return s
}

// get fetches path from the server's HTTP listener.
func (s *monitoredServer) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// release puts an item on the release queue, which ends mgr_monitor.py's wait.
func (s *monitoredServer) release(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	c, err := managers.Dial(ctx, "tcp", s.addr, &managers.ClientConfig{AuthKey: s.key})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := c.Create(ctx, "release", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Call(ctx, "put", pickle.Tuple{"go"}, nil); err != nil {
		t.Fatal(err)
	}
}

// startMonitorClient starts mgr_monitor.py against s and waits until it has put its items.
func startMonitorClient(t *testing.T, py python, s *monitoredServer, put int) *pyProc {
	t.Helper()
	p := startPython(t, py, "mgr_monitor.py", append(tcpArgs(s.addr), "--authkey-hex", hexKey(s.key), "--put", fmt.Sprint(put))...)
	var ready struct {
		Ready       bool
		Jobs, Queue int
	}
	p.JSONLine(time.Minute, &ready)
	if !ready.Ready || ready.Jobs < put || ready.Queue != put/2+1 { // jobs is shared by every client
		t.Fatalf("%s: client state %+v", py.Name(), ready)
	}
	return p
}

// TestServeHTTPWithPythonClients: while a real Python client is connected to `mpgo serve
// --http` (blocked in Queue.get), /metrics passes the lint and shows its queues, requests and
// connection, a wrong-key handshake is counted, the status page lists the queues with their
// depths, and /healthz is 200.
func TestServeHTTPWithPythonClients(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		s := startMonitoredServer(t)
		const put = 5
		client := startMonitorClient(t, py, s, put)

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if c, err := connection.Dial(ctx, "tcp", s.addr, &connection.Config{AuthKey: []byte("wrong")}); err == nil {
			c.Close()
			t.Fatal("a wrong key was accepted")
		}
		var metrics string
		for { // the server counts the failure just after the client sees it
			var code int
			code, metrics = s.get(t, "metrics")
			if code != 200 {
				t.Fatalf("/metrics: %d\n%s", code, metrics)
			}
			if strings.Contains(metrics, `mpgo_handshake_failures_total{reason="wrong_key"} 1`) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("the wrong-key handshake is not counted:\n%s", metrics)
			}
			time.Sleep(5 * time.Millisecond) // polls a condition
		}
		problems, err := promlint.New(strings.NewReader(metrics)).Lint()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("/metrics lint: %s: %s", p.Metric, p.Text)
		}
		for _, want := range []string{
			fmt.Sprintf(`mpgo_queue_length{typeid="jobs"} %d`, put),
			fmt.Sprintf(`mpgo_queue_length{typeid="Queue"} %d`, put/2+1),
			`mpgo_queue_length{typeid="release"} 0`,
			fmt.Sprintf(`mpgo_requests_total{method="put",typeid="jobs"} %d`, put),
			`mpgo_requests_total{method="qsize",typeid="jobs"} 1`,
			`mpgo_objects{typeid="jobs"} 1`,
			`mpgo_connections{state="authenticating"} 0`,
			"process_resident_memory_bytes ",
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		if strings.Contains(metrics, `mpgo_connections{state="serving"} 0`) {
			t.Error("no serving connection while the Python client is connected")
		}

		code, page := s.get(t, "")
		if code != 200 {
			t.Fatalf("/: %d", code)
		}
		for _, want := range []string{
			s.addr,
			fmt.Sprintf(`<td>jobs</td><td class="n">1</td><td class="n">%d</td>`, put),
			fmt.Sprintf(`<td>Queue</td><td class="n">1</td><td class="n">%d</td>`, put/2+1),
			"<td>wrong_key</td>",
			`id="rate-chart"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("status page lacks %q", want)
			}
		}
		if code, body := s.get(t, "healthz"); code != 200 || body != "ok\n" {
			t.Errorf("/healthz: %d %q", code, body)
		}

		// mpgo inspect shows the same queues from the command line.
		out, err := exec.CommandContext(ctx, mpgoBinary(t), "inspect", "--address", s.addr, "--authkey-hex", hexKey(s.key)).CombinedOutput()
		if err != nil {
			t.Fatalf("mpgo inspect: %v\n%s", err, out)
		}
		var depths []string
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) == 4 && f[2] == "managers.Queue" {
				depths = append(depths, f[3])
			}
		}
		if strings.Join(depths, " ") != fmt.Sprintf("%d %d 0", put, put/2+1) { // jobs, Queue, release: creation order
			t.Errorf("mpgo inspect: queue depths %v, want %d, %d and 0:\n%s", depths, put, put/2+1, out)
		}

		s.release(t)
		var done struct{ Released string }
		client.JSONLine(time.Minute, &done)
		client.Wait(time.Minute)
		if done.Released != "go" {
			t.Errorf("released with %q", done.Released)
		}
	})
}
