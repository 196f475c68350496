package monitor_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/managers/monitor"
	"github.com/mpgo/mpgo/pickle"
)

var testKey = []byte("monitor-test")

// startServer serves a SyncManager registry plus a named queue "jobs" on loopback.
func startServer(t testing.TB) (*managers.Server, string) {
	t.Helper()
	reg := managers.NewRegistry()
	if err := managers.RegisterSyncManager(reg); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister("jobs", managers.Singleton(managers.NewQueue(0)))
	srv := &managers.Server{AuthKey: testKey, Registry: reg}
	l, err := connection.Listen("tcp", "127.0.0.1:0", &connection.Config{AuthKey: testKey, OnHandshakeError: srv.HandshakeFailed})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return srv, l.Addr().String()
}

func dial(t testing.TB, addr string) *managers.Client {
	t.Helper()
	c, err := managers.Dial(t.Context(), "tcp", addr, &managers.ClientConfig{AuthKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// traffic puts n items on the named queue and on a new SyncManager Queue.
func traffic(t testing.TB, c *managers.Client, n int) {
	t.Helper()
	ctx := t.Context()
	jobs, err := c.Create(ctx, "jobs", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		for _, p := range []*managers.Proxy{jobs, q} {
			if _, err := p.Call(ctx, "put", pickle.Tuple{int64(i)}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
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

// TestCollectorLint: the collector's metrics and the whole /metrics page (with the Go and
// process collectors) pass client_golang's lint, and carry the values of the traffic.
func TestCollectorLint(t *testing.T) {
	srv, addr := startServer(t)
	traffic(t, dial(t, addr), 5)
	if _, err := connection.Dial(t.Context(), "tcp", addr, &connection.Config{AuthKey: []byte("wrong")}); err == nil {
		t.Fatal("wrong key accepted")
	}

	c := monitor.NewCollector(srv)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("pedantic registry: %v %v", problems, err)
	}
	want := `
# HELP mpgo_queue_length Items in the shared queues of each typeid (one queue for a named queue, mpgo serve --queue NAME).
# TYPE mpgo_queue_length gauge
mpgo_queue_length{typeid="Queue"} 5
mpgo_queue_length{typeid="jobs"} 5
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "mpgo_queue_length"); err != nil {
		t.Error(err)
	}

	h := monitor.NewHandler(srv, nil)
	defer h.Close()
	web := httptest.NewServer(h)
	defer web.Close()
	code, body := get(t, web.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	problems, err = promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("/metrics lint: %s: %s", p.Metric, p.Text)
	}
	for _, line := range []string{
		`mpgo_requests_total{method="put",typeid="jobs"} 5`,
		`mpgo_requests_total{method="put",typeid="Queue"} 5`,
		`mpgo_objects{typeid="jobs"} 1`,
		`mpgo_connections{state="serving"}`,
		`mpgo_connections{state="authenticating"} 0`,
		`mpgo_handshake_failures_total{reason="wrong_key"}`,
		`mpgo_request_duration_seconds_bucket{le="+Inf"}`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if strings.Contains(body, `mpgo_handshake_failures_total{reason="wrong_key"} 0`) {
		t.Error("the wrong-key handshake is not counted")
	}
}

// TestNoLabelExplosion: a client calling many made-up method names, unknown objects and
// unknown public functions adds no series.
func TestNoLabelExplosion(t *testing.T) {
	srv, addr := startServer(t)
	c := dial(t, addr)
	traffic(t, c, 1)
	col := monitor.NewCollector(srv)
	before := testutil.CollectAndCount(col)

	ctx := t.Context()
	q, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := q.Call(ctx, fmt.Sprintf("made_up_%d", i), nil, nil); err == nil {
			t.Fatal("a made-up method succeeded")
		}
		if _, err := c.CallPublic(ctx, fmt.Sprintf("made_up_function_%d", i), nil, nil); err == nil {
			t.Fatal("a made-up public function succeeded")
		}
	}
	if _, err := c.Create(ctx, "MadeUpTypeID", nil, nil); err == nil {
		t.Fatal("a made-up typeid was created")
	}
	if after := testutil.CollectAndCount(col); after != before {
		t.Errorf("series: %d before the made-up names, %d after", before, after)
	}
	if n := testutil.CollectAndCount(col, "mpgo_requests_total"); n == 0 {
		t.Error("no mpgo_requests_total series")
	}
	// The made-up calls are counted, under "other" (the last may still be in flight).
	waitFor(t, "100 Queue/other requests", func() bool {
		for _, r := range srv.Snapshot().Requests {
			if r.TypeID == "Queue" && r.Method == "other" {
				return r.Count == 100
			}
		}
		return false
	})
}

// TestHealthz: 200 while serving, 503 from the start of Shutdown.
func TestHealthz(t *testing.T) {
	srv, addr := startServer(t)
	h := monitor.NewHandler(srv, nil)
	defer h.Close()
	web := httptest.NewServer(h)
	defer web.Close()
	if code, body := get(t, web.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz while serving: %d %q", code, body)
	}

	// A call blocked in Queue.get keeps Shutdown waiting.
	c := dial(t, addr)
	ctx := t.Context()
	q, err := c.Create(ctx, "Queue", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := q.Call(ctx, "get", nil, nil)
		got <- err
	}()
	waitFor(t, "the get call", func() bool {
		for _, r := range srv.Snapshot().Requests {
			if r.TypeID == "#server" && r.Method == "accept_connection" && r.Count > 0 {
				return true
			}
		}
		return false
	})
	sctx, cancel := context.WithCancel(context.Background())
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(sctx) }()
	waitFor(t, "Shutdown to begin", srv.Closing)
	if code, body := get(t, web.URL+"/healthz"); code != http.StatusServiceUnavailable || body != "shutting down\n" {
		t.Errorf("/healthz during Shutdown: %d %q", code, body)
	}
	if code, body := get(t, web.URL+"/"); code != 200 || !strings.Contains(body, "Shutting down") {
		t.Errorf("status page during Shutdown: %d, no banner", code)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned while a call was in flight: %v", err)
	default:
	}
	cancel()
	if err := <-shut; err == nil {
		t.Error("Shutdown with a cancelled context returned nil")
	}
	<-got
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(time.Millisecond) // polls a condition
	}
}

// TestStatusPage: the page names the listener, objects and queues with their depths, and
// draws both charts once there are two samples.
func TestStatusPage(t *testing.T) {
	srv, addr := startServer(t)
	h := monitor.NewHandler(srv, &monitor.Options{SampleInterval: 20 * time.Millisecond, History: time.Minute})
	defer h.Close()
	web := httptest.NewServer(h)
	defer web.Close()
	traffic(t, dial(t, addr), 3)

	code, body := get(t, web.URL+"/")
	if code != 200 {
		t.Fatalf("/: %d", code)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="1">`,
		addr,
		"<td>jobs</td><td class=\"n\">1</td><td class=\"n\">3</td>", // queue depth
		"<td>Queue</td>",
		`id="rate-chart"`, `id="queue-chart"`,
		"<td>put</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	paths := regexp.MustCompile(`<path class="line" d="M[0-9.]+ [0-9.]+ L[0-9.]+ [0-9.]+`).FindAllString(body, -1)
	if len(paths) < 3 { // the rate, and the two queues
		t.Errorf("%d chart lines drawn, want 3:\n%s", len(paths), body)
	}
	if code, _ := get(t, web.URL+"/nosuch"); code != 404 {
		t.Errorf("/nosuch: %d", code)
	}
}
