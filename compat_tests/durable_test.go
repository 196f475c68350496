package compat_tests

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mpgo/internal/natstest"
)

// The durable queues of `mpgo serve --store DIR` and `--nats URL` (issue 14) with real CPython
// clients: the queue API, a restart keeping every item, two servers sharing a queue on a 3-node
// JetStream cluster, kill -9 of mpgo and of one NATS node with producers and consumers running,
// and NATS going away and coming back. The kill tests run on the oldest and newest interpreter
// only (durableKillPythons): they exercise the server, not the client's version.

var durableKey = []byte("durable-key")

// mpgoServe is a `mpgo serve` subprocess.
type mpgoServe struct {
	t      testing.TB
	args   []string
	cmd    *exec.Cmd
	addr   string
	out    *lockedBuffer // stdout and stderr
	exited chan struct{}
	err    error
}

// startMpgoServe runs `mpgo serve --address 127.0.0.1:0 ARGS...` and waits until it serves.
func startMpgoServe(t testing.TB, args ...string) *mpgoServe {
	t.Helper()
	p := &mpgoServe{t: t, args: args}
	p.start()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *mpgoServe) start() {
	p.t.Helper()
	args := append([]string{"serve", "--address", "127.0.0.1:0", "--log-level", "warn"}, p.args...)
	cmd := exec.Command(mpgoBinary(p.t), args...)
	cmd.Env = append(os.Environ(), "MPGO_AUTHKEY="+string(durableKey))
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	p.out = &lockedBuffer{}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd, p.exited, p.addr = cmd, make(chan struct{}), ""
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(p.out, sc.Text())
			if a, ok := strings.CutPrefix(sc.Text(), "mpgo: serving on "); ok {
				addrc <- a
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	select {
	case p.addr = <-addrc:
	case <-p.exited:
		p.t.Fatalf("mpgo serve %s exited: %v\n%s", strings.Join(p.args, " "), p.err, p.out.String())
	case <-time.After(90 * time.Second):
		p.kill()
		p.t.Fatalf("mpgo serve %s: no address within 90s\n%s", strings.Join(p.args, " "), p.out.String())
	}
}

// kill kills the server with SIGKILL and waits for it.
func (p *mpgoServe) kill() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// stop sends SIGTERM and expects a clean exit.
func (p *mpgoServe) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.kill()
		p.t.Fatalf("mpgo serve did not stop on SIGTERM\n%s", p.out.String())
	}
	if p.err != nil {
		p.t.Errorf("mpgo serve exited with %v after SIGTERM\n%s", p.err, p.out.String())
	}
}

// pyArgs are a fixture's address and key arguments for this server.
func (p *mpgoServe) pyArgs(mode string, extra ...string) []string {
	return append(append(tcpArgs(p.addr), "--authkey-hex", hexKey(durableKey), mode), extra...)
}

// natsnodeBinary builds internal/natstest/cmd/natsnode once per test binary.
func natsnodeBinary(t testing.TB) string { return goBinary(t, "./internal/natstest/cmd/natsnode") }

// natsNode is a JetStream server in a process of its own (natsnode), so that it can be killed.
type natsNode struct {
	t               testing.TB
	dir, name       string
	client, cluster string // URLs once started; a restart reuses their ports
	clustered       bool
	routes          []string
	cmd             *exec.Cmd
	exited          chan struct{}
	out             *lockedBuffer
}

func startNatsNode(t testing.TB, dir, name string, clustered bool, routes []string) *natsNode {
	t.Helper()
	n := &natsNode{t: t, dir: dir, name: name, clustered: clustered, routes: routes}
	t.Cleanup(n.kill)
	n.restart()
	return n
}

func (n *natsNode) start() error {
	listen, cluster := "127.0.0.1:0", strings.TrimPrefix(n.cluster, "nats://")
	if n.client != "" { // a restart: same port, so that clients find it again
		listen = strings.TrimPrefix(n.client, "nats://")
	}
	args := []string{"-dir", n.dir, "-name", n.name, "-listen", listen, "-log"} // the log shows only on failure
	if n.clustered {
		args = append(args, "-cluster", cluster)
		if len(n.routes) > 0 {
			args = append(args, "-routes", strings.Join(n.routes, ","))
		}
	}
	cmd := exec.Command(natsnodeBinary(n.t), args...)
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	n.out = &lockedBuffer{}
	cmd.Stderr = n.out
	if err := cmd.Start(); err != nil {
		return err
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	ready := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var client string
		for sc.Scan() {
			if c, ok := strings.CutPrefix(sc.Text(), "CLIENT "); ok {
				client = c
				if !n.clustered {
					ready <- [2]string{client, ""}
				}
			}
			if c, ok := strings.CutPrefix(sc.Text(), "CLUSTER "); ok {
				ready <- [2]string{client, c}
			}
		}
		_ = cmd.Wait()
		close(n.exited)
	}()
	select {
	case r := <-ready:
		n.client = r[0]
		return nil
	case <-n.exited:
		return fmt.Errorf("natsnode %s exited:\n%s", n.name, n.out.String())
	case <-time.After(60 * time.Second):
		n.kill()
		return fmt.Errorf("natsnode %s not ready within 60s:\n%s", n.name, n.out.String())
	}
}

// restart starts a killed node again on its ports and directory.
func (n *natsNode) restart() {
	n.t.Helper()
	if err := n.start(); err != nil {
		n.t.Fatal(err)
	}
}

// kill kills the node with SIGKILL (kill -9) and waits for it.
func (n *natsNode) kill() {
	if n.exited == nil {
		return
	}
	select {
	case <-n.exited:
	default:
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}

// startNodeCluster starts n natsnode processes forming one JetStream cluster. A clustered
// JetStream needs its routes at start, so the route ports are picked first (free ports of
// 127.0.0.1:0, closed again) and every node is given every route.
func startNodeCluster(t testing.TB, n int) []*natsNode {
	t.Helper()
	dir := t.TempDir()
	routes := make([]string, n)
	for i := range routes {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		routes[i] = "nats://" + l.Addr().String()
		l.Close()
	}
	nodes := make([]*natsNode, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		nd := &natsNode{t: t, dir: filepath.Join(dir, fmt.Sprintf("n%d", i)), name: fmt.Sprintf("n%d", i), clustered: true,
			routes: routes, cluster: routes[i]}
		t.Cleanup(nd.kill)
		nodes[i] = nd
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = nd.start() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return nodes
}

func nodeURLs(nodes []*natsNode) string {
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.client)
	}
	return strings.Join(urls, ",")
}

// jsonEqual compares a decoded JSON value with the JSON text want.
func jsonEqual(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	b, _ := json.Marshal(got)
	var g any
	_ = json.Unmarshal(b, &g)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %s, want %s", what, b, want)
	}
}

// TestDurableStoreAPI runs the queue API through `mpgo serve --store DIR` on every interpreter,
// then puts items, stops the server (SIGTERM), starts it again on the same DIR and gets every
// item back in order.
func TestDurableStoreAPI(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		dir := t.TempDir()
		args := []string{"--store", dir, "--queue", "jobs", "--shared", "small=Queue(2)", "--shared", "jq=JoinableQueue", "--shared", "d=dict"}
		srv := startMpgoServe(t, args...)
		var res map[string]any
		runPythonJSON(t, py, &res, "durable_client.py", srv.pyArgs("api")...)
		for k, want := range map[string]string{
			"empty0":          `[true, 0]`,
			"after_puts":      `[false, 4, false]`,
			"gets":            `["a", ["t", 1], {"k": [1, 2.5, null]}, "\u00e9t\u00e9"]`,
			"empty_errors":    `["Empty", "Empty", "Empty"]`,
			"woken_get":       `["wake"]`,
			"small_full":      `[true, 2, false]`,
			"small_errors":    `["Full", "Full", "Full"]`,
			"small_gets":      `[1, 2, 3, "Empty"]`,
			"small_put_woken": `[null]`,
			"jq_gets":         `["x", "y"]`,
			"jq_too_many":     `"ValueError"`,
			"jq_joined":       `true`,
			"dict":            `1`,
		} {
			jsonEqual(t, k, res[k], want)
		}

		var put struct{ Put []string }
		runPythonJSON(t, py, &put, "durable_client.py", srv.pyArgs("put", "--n", "20", "--prefix", "r")...)
		srv.stop()
		srv = startMpgoServe(t, args...)
		expect := filepath.Join(t.TempDir(), "expect")
		if err := os.WriteFile(expect, []byte(strings.Join(put.Put, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		var drained struct {
			Got   []string
			Qsize int
		}
		runPythonJSON(t, py, &drained, "durable_client.py", srv.pyArgs("drain", "--expect-file", expect)...)
		if !reflect.DeepEqual(drained.Got, put.Put) || drained.Qsize != 0 {
			t.Errorf("after a restart got %v (qsize %d), want %v", drained.Got, drained.Qsize, put.Put)
		}
		srv.stop()
	})
}

// TestDurableTwoServers runs two mpgo servers on one 3-node JetStream cluster (in-process,
// loopback) sharing --queue NAME with --replicas 3: put on one, get on the other, each item
// once, qsize agrees, task_done/join across them.
func TestDurableTwoServers(t *testing.T) {
	cluster := natstest.StartCluster(t, 3, t.TempDir())
	urls := strings.Join(cluster.URLs(), ",")
	forEachPython(t, nil, func(t *testing.T, py python) {
		name := strings.ReplaceAll("jobs_"+py.Name(), ".", "_")
		args := []string{"--nats", urls, "--replicas", "3", "--queue", name}
		a := startMpgoServe(t, args...)
		b := startMpgoServe(t, args...)
		_, port2, _ := strings.Cut(b.addr, ":")
		var res struct {
			Qsize        []int
			Empty        []bool
			Got          []string
			After        []any
			Last         string
			JoinedAcross []bool `json:"joined_across"`
			TooMany      string `json:"too_many"`
		}
		runPythonJSON(t, py, &res, "durable_client.py", a.pyArgs("pair", "--queue", name, "--port2", port2)...)
		got := append([]string(nil), res.Got...)
		sort.Strings(got)
		var want []string
		for i := range 20 {
			want = append(want, fmt.Sprintf("p-%d", i))
		}
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want each of %v once", res.Got, want)
		}
		jsonEqual(t, "qsize", res.Qsize, `[20, 20]`)
		jsonEqual(t, "empty", res.Empty, `[false, false]`)
		jsonEqual(t, "after", res.After, `[0, 0, "Empty", "Empty"]`)
		if res.Last != "last" || !reflect.DeepEqual(res.JoinedAcross, []bool{true}) || res.TooMany != "ValueError" {
			t.Errorf("last %q, joined across servers %v, too many task_done %q", res.Last, res.JoinedAcross, res.TooMany)
		}
		a.stop()
		b.stop()
	})
}

// durableKillPythons keeps the oldest and the newest interpreter for the kill tests.
func durableKillPythons(t *testing.T) func(python) string {
	all := pythons(t)
	first, last := all[0].Name(), all[len(all)-1].Name()
	return func(py python) string {
		if n := py.Name(); n != first && n != last {
			return "the kill tests run on " + first + " and " + last + " only"
		}
		return ""
	}
}

// killRun is the record of producers and consumers around a kill.
type killRun struct {
	acked   map[string]bool      // puts that returned to Python
	got     map[string][]float64 // item -> the times it was got (consumers)
	errs    []string
	changed chan struct{} // signalled after each acknowledged put
}

func newKillRun() *killRun {
	return &killRun{acked: map[string]bool{}, got: map[string][]float64{}, changed: make(chan struct{}, 1)}
}

// line records one line of a producer or consumer; it reports whether the process is done.
func (k *killRun) line(mu *sync.Mutex, l string) (done bool) {
	mu.Lock()
	defer mu.Unlock()
	switch {
	case strings.HasPrefix(l, "PUT "):
		k.acked[strings.TrimPrefix(l, "PUT ")] = true
		select {
		case k.changed <- struct{}{}:
		default:
		}
	case strings.HasPrefix(l, "GOT "):
		f := strings.Fields(l)
		ts, _ := strconv.ParseFloat(f[2], 64)
		k.got[f[1]] = append(k.got[f[1]], ts)
	case strings.HasPrefix(l, "ERR "):
		k.errs = append(k.errs, l)
	case l == "DONE":
		return true
	}
	return false
}

// follow waits for p's READY line (connected), then reads its lines into k until DONE or the
// end of its output, in the background.
func (k *killRun) follow(mu *sync.Mutex, p *pyProc, wg *sync.WaitGroup) {
	if l := p.Line(60 * time.Second); l != "READY" {
		p.t.Fatalf("%s: first line %q, want READY", p.script, l)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for l := range p.lines {
			if k.line(mu, l) {
				return
			}
		}
	}()
}

func (k *killRun) ackedCount(mu *sync.Mutex) int {
	mu.Lock()
	defer mu.Unlock()
	return len(k.acked)
}

// waitAcked waits until n puts were acknowledged in total.
func (k *killRun) waitAcked(t *testing.T, mu *sync.Mutex, n int) {
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for k.ackedCount(mu) < n {
		select {
		case <-k.changed:
		case <-deadline.C:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("only %d puts acknowledged within 60s (want %d); errors %v", len(k.acked), n, k.errs)
		}
	}
}

// check drains the queue through srv for the acknowledged items not yet got, then checks that
// nothing acknowledged is missing and that every duplicate was first got in [from, to] (unix
// seconds): the stated window.
func (k *killRun) check(t *testing.T, py python, srv *mpgoServe, from, to float64) {
	t.Helper()
	var missing []string
	for it := range k.acked {
		if len(k.got[it]) == 0 {
			missing = append(missing, it)
		}
	}
	expect := filepath.Join(t.TempDir(), "expect")
	if err := os.WriteFile(expect, []byte(strings.Join(missing, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	var drained struct{ Got, Errors []string }
	runPythonJSON(t, py, &drained, "durable_client.py", srv.pyArgs("drain", "--expect-file", expect, "--timeout", "60")...)
	if len(drained.Errors) > 0 {
		t.Logf("drain: %d calls raised and were retried, e.g. %s", len(drained.Errors), drained.Errors[0])
	}
	now := float64(time.Now().UnixNano()) / 1e9
	for _, it := range drained.Got {
		k.got[it] = append(k.got[it], now)
	}
	lost, dups, outside := 0, 0, 0
	for it := range k.acked {
		if len(k.got[it]) == 0 {
			lost++
			t.Errorf("acknowledged put %s was never got", it)
		}
	}
	for it, times := range k.got {
		if len(times) > 1 {
			dups += len(times) - 1
			if times[0] < from || times[0] > to {
				outside++
				t.Errorf("duplicate %s first got at %.3f, outside the window [%.3f, %.3f]", it, times[0], from, to)
			}
		}
	}
	t.Logf("%s: %d puts acknowledged, %d lost, %d duplicates (%d outside the window), %d items got", py.Name(), len(k.acked), lost, dups, outside, len(k.got))
}

// TestDurableKillMpgo kills `mpgo serve --store DIR` with SIGKILL while Python producers and
// consumers run, restarts it on the same DIR and checks that every acknowledged put is got,
// duplicates only for items handed out just before the kill.
func TestDurableKillMpgo(t *testing.T) {
	forEachPython(t, durableKillPythons(t), func(t *testing.T, py python) {
		dir := t.TempDir()
		args := []string{"--store", dir, "--queue", "jobs", "--redeliver", "2s"}
		srv := startMpgoServe(t, args...)
		k := newKillRun()
		var mu sync.Mutex
		var wg sync.WaitGroup
		var consumers []*os.File
		for i := range 2 {
			k.follow(&mu, startPython(t, py, "durable_client.py", srv.pyArgs("producer", "--n", "2000", "--prefix", fmt.Sprintf("p%d", i))...), &wg)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			consumers = append(consumers, w)
			k.follow(&mu, startPythonStdin(t, py, r, "durable_client.py", srv.pyArgs("consumer")...), &wg)
			r.Close()
		}
		k.waitAcked(t, &mu, 200)
		killed := float64(time.Now().UnixNano()) / 1e9
		srv.kill()
		t.Logf("killed mpgo after %d acknowledged puts", k.ackedCount(&mu))
		wg.Wait() // every client saw its connection break
		for _, w := range consumers {
			w.Close()
		}
		t.Logf("clients ended")
		srv = startMpgoServe(t, args...)
		t.Logf("restarted")
		// A reply written just before the kill reaches its consumer just after it.
		k.check(t, py, srv, killed-2, killed+1)
		srv.stop()
	})
}

// TestDurableKillNATSNode kills one node (SIGKILL) of a 3-node JetStream cluster (natsnode
// processes) under `mpgo serve --nats --replicas 3` while Python producers and consumers run:
// they go on, and every acknowledged put is got.
func TestDurableKillNATSNode(t *testing.T) {
	forEachPython(t, durableKillPythons(t), func(t *testing.T, py python) {
		start := time.Now()
		nodes := startNodeCluster(t, 3)
		srv := startMpgoServe(t, "--nats", nodeURLs(nodes), "--replicas", "3", "--queue", "jobs", "--redeliver", "2s")
		t.Logf("3-node cluster and mpgo serving after %v", time.Since(start).Round(time.Millisecond))
		k := newKillRun()
		var mu sync.Mutex
		var prod, cons sync.WaitGroup
		var consumers []*os.File
		for i := range 2 {
			k.follow(&mu, startPython(t, py, "durable_client.py", srv.pyArgs("producer", "--n", "300", "--keep-going", "--prefix", fmt.Sprintf("p%d", i))...), &prod)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			consumers = append(consumers, w)
			k.follow(&mu, startPythonStdin(t, py, r, "durable_client.py", srv.pyArgs("consumer", "--keep-going")...), &cons)
			r.Close()
		}
		k.waitAcked(t, &mu, 100)
		killed := float64(time.Now().UnixNano()) / 1e9
		nodes[0].kill()
		t.Logf("killed node n0 after %d acknowledged puts", k.ackedCount(&mu))
		k.waitAcked(t, &mu, k.ackedCount(&mu)+100) // the queue goes on with two nodes
		prod.Wait()
		for _, w := range consumers {
			w.Close()
		}
		cons.Wait()
		k.check(t, py, srv, killed-2, killed+15)
		if len(k.errs) > 0 {
			t.Logf("calls that raised around the kill: %d, e.g. %s", len(k.errs), k.errs[0])
		}
		srv.stop()
	})
}

// TestDurableNATSUnreachable stops the only NATS server under `mpgo serve --nats`: queue calls
// raise a clear exception, a dict is still served, and the queue works again (with its items)
// once the server is back. A server that cannot reach NATS at start-up gives up after
// --nats-wait with a clear message.
func TestDurableNATSUnreachable(t *testing.T) {
	t.Run("startup", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		// A port nothing listens on: a natsnode started and killed.
		n := startNatsNode(t, t.TempDir(), "gone", false, nil)
		n.kill()
		cmd := exec.CommandContext(ctx, mpgoBinary(t), "serve", "--address", "127.0.0.1:0", "--authkey", "k",
			"--nats", n.client, "--queue", "jobs", "--nats-wait", "1s")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--nats-wait") {
			t.Errorf("mpgo serve with NATS unreachable: %v\n%s", err, out)
		}
	})
	forEachPython(t, durableKillPythons(t), func(t *testing.T, py python) {
		node := startNatsNode(t, t.TempDir(), "solo", false, nil)
		srv := startMpgoServe(t, "--nats", node.client, "--queue", "jobs", "--shared", "d=dict", "--redeliver", "2s")
		var put struct{ Put []string }
		runPythonJSON(t, py, &put, "durable_client.py", srv.pyArgs("put", "--n", "3", "--prefix", "u")...)
		node.kill()
		var faults map[string]any
		runPythonJSON(t, py, &faults, "durable_client.py", srv.pyArgs("faults")...)
		for _, call := range []string{"get", "get_nowait", "put"} {
			e, _ := faults[call].([]any)
			if len(e) != 2 || e[0] == "Empty" || e[0] == "Full" || e[1] == "" {
				t.Errorf("%s with NATS down: %v, want a clear exception", call, faults[call])
			} else {
				t.Logf("%s with NATS down raised %s: %s", call, e[0], e[1])
			}
		}
		jsonEqual(t, "dict", faults["dict"], `"served"`)
		node.restart()
		var rec struct {
			Got    *string
			Errors int
		}
		runPythonJSON(t, py, &rec, "durable_client.py", srv.pyArgs("recover", "--timeout", "60")...)
		if rec.Got == nil || *rec.Got != "u-0" {
			t.Errorf("after NATS returned: got %v (after %d errors), want u-0", rec.Got, rec.Errors)
		}
		expect := filepath.Join(t.TempDir(), "expect")
		if err := os.WriteFile(expect, []byte("u-1\nu-2\nback"), 0o600); err != nil {
			t.Fatal(err)
		}
		var drained struct{ Got []string }
		runPythonJSON(t, py, &drained, "durable_client.py", srv.pyArgs("drain", "--expect-file", expect)...)
		if strings.Join(drained.Got, ",") != "u-1,u-2,back" {
			t.Errorf("after NATS returned: drained %v, want u-1 u-2 back", drained.Got)
		}
		srv.stop()
	})
}
