package compat_tests

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/connection/mux"
	"github.com/mpgo/mpgo/connection/mux/relay"
	"github.com/mpgo/mpgo/internal/testpki"
	"github.com/mpgo/mpgo/internal/wanproxy"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// CPython clients of every version through mpgo relay (package connection/mux/relay) to the Go
// server's mux listener: yamux sessions over mutual TLS 1.3.

var (
	relayPKIOnce sync.Once
	relayPKI     *testpki.Set
	relayPKIErr  error
)

func testPKI(t testing.TB) *testpki.Set {
	relayPKIOnce.Do(func() { relayPKI, relayPKIErr = testpki.NewSet() })
	if relayPKIErr != nil {
		t.Fatal(relayPKIErr)
	}
	return relayPKI
}

// relayEnv is the test server (startGoServer's typeids, plus Block) with a mux listener, and a
// relay in front of it; env.addr is the relay's address.
type relayEnv struct {
	env     *srvEnv
	ml      *mux.Listener
	relay   *relay.Relay
	link    *wanproxy.Proxy // between relay and server, if asked for
	entered chan struct{}   // a Block.wait call has started
}

type relayOpts struct {
	preauth  bool          // the relay has the key
	link     bool          // put a wanproxy between relay and server
	delay    time.Duration // of the link, each way
	maxFrame int           // of the mux listener (0: 1 MiB)
}

func startRelayEnv(t *testing.T, o relayOpts) *relayEnv {
	t.Helper()
	pki := testPKI(t)
	env := startGoServer(t)
	entered := make(chan struct{}, 64)
	env.srv.Registry.MustRegister("Block", managers.Type{
		New: func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) {
			return managers.ObjectFunc(func(ctx context.Context, name string, _ pickle.Tuple, _ *pickle.Dict) (any, error) {
				entered <- struct{}{}
				<-ctx.Done()
				return nil, ctx.Err()
			}), nil
		},
		Exposed: []string{"wait"},
	})
	ml, err := mux.Listen("tcp", "127.0.0.1:0", &mux.Config{TLS: pki.ServerTLS()})
	if err != nil {
		t.Fatal(err)
	}
	maxFrame := o.maxFrame
	if maxFrame == 0 {
		maxFrame = 1 << 20
	}
	l, err := connection.NewListener(ml, &connection.Config{AuthKey: env.key, MaxFrameSize: maxFrame, TrustPreAuthenticated: true})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- env.srv.Serve(l) }()
	t.Cleanup(func() {
		// startGoServer's cleanup (registered first, run last) shuts the server down.
		ml.CloseSessions()
	})
	re := &relayEnv{ml: ml, entered: entered}
	target := ml.Addr().String()
	if o.link {
		re.link, err = wanproxy.New(target, o.delay)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { re.link.Close() })
		target = re.link.Addr()
	}
	cfg := &relay.Config{Server: target, Mux: mux.Config{TLS: pki.ClientTLS()}, MinBackoff: time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	if o.preauth {
		cfg.AuthKey = env.key
	}
	re.relay, err = relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- re.relay.Serve(rl) }()
	t.Cleanup(func() {
		re.relay.Close()
		if err := <-done; !errors.Is(err, relay.ErrClosed) {
			t.Errorf("relay Serve: %v", err)
		}
	})
	re.env = &srvEnv{srv: env.srv, addr: rl.Addr().String(), key: env.key, queue: env.queue}
	return re
}

// TestRelayFeatures runs the feature tour (errors of every kind, method_to_typeid and nested
// proxies, whose '#PROXY' replies must name the relay) through the relay, with the relay
// answering the handshakes and as a plain pipe.
func TestRelayFeatures(t *testing.T) {
	for _, preauth := range []bool{true, false} {
		name := "pipe"
		if preauth {
			name = "preauth"
		}
		t.Run(name, func(t *testing.T) {
			re := startRelayEnv(t, relayOpts{preauth: preauth})
			forEachPython(t, nil, func(t *testing.T, py python) { checkFeatures(t, py, re.env) })
			if n := re.ml.NumSessions(); n != 1 {
				t.Errorf("%d sessions, want the relay's one", n)
			}
		})
	}
}

// edgePythons is a forEachPython filter for the heavy relay tests, whose subject is the
// transport rather than the client version: it keeps Python 2, the oldest and the newest Python 3
// (every version runs the feature tour and the session loss).
func edgePythons(t *testing.T) func(python) string {
	var oldest3, newest3 python
	for _, py := range pythons(t) {
		if py.IsPy2() {
			continue
		}
		if oldest3.Major == 0 || !py.AtLeast(oldest3.Major, oldest3.Minor) {
			oldest3 = py
		}
		if newest3.Major == 0 || py.AtLeast(newest3.Major, newest3.Minor) {
			newest3 = py
		}
	}
	return func(py python) string {
		if py.IsPy2() || py.Name() == oldest3.Name() || py.Name() == newest3.Name() {
			return ""
		}
		return "transport test: run with Python 2, the oldest and the newest Python 3 only"
	}
}

// TestRelayBigValue: a 64 MiB value through the relay, both ways.
func TestRelayBigValue(t *testing.T) {
	re := startRelayEnv(t, relayOpts{preauth: true, maxFrame: 128 << 20})
	forEachPython(t, edgePythons(t), func(t *testing.T, py python) {
		var r struct {
			Len  int
			Same bool
		}
		runPythonJSON(t, py, &r, "relay_big.py", re.env.args("--mib", "64")...)
		if r.Len != 64<<20+3 || !r.Same {
			t.Fatalf("got %d bytes (same: %v), want %d identical", r.Len, r.Same, 64<<20+3)
		}
	})
}

// TestRelaySessionKilled: calls in flight when the link dies all fail at once in Python (the
// relay closes every connection of the dead session), and the server cancels them.
func TestRelaySessionKilled(t *testing.T) {
	re := startRelayEnv(t, relayOpts{preauth: true, link: true})
	forEachPython(t, nil, func(t *testing.T, py python) {
		const calls = 4
		p := startPython(t, py, "relay_block.py", re.env.args("--calls", fmt.Sprint(calls))...)
		var started struct{ Started int }
		p.JSONLine(time.Minute, &started)
		for i := 0; i < calls; i++ {
			select {
			case <-re.entered:
			case <-time.After(time.Minute):
				t.Fatalf("only %d of %d calls reached the server\n%s", i, calls, p.Stderr())
			}
		}
		re.link.Kill()
		var r struct {
			Outcomes []string
			Spread   float64
		}
		p.JSONLine(time.Minute, &r)
		p.Wait(time.Minute)
		if len(r.Outcomes) != calls {
			t.Fatalf("outcomes %v", r.Outcomes)
		}
		for _, o := range r.Outcomes {
			if o == "returned" || o == "" {
				t.Fatalf("a call did not fail: %v", r.Outcomes)
			}
		}
		t.Logf("%s: calls failed with %v, %.3f s apart", py.Name(), r.Outcomes, r.Spread)
	})
}

// TestRelayManyConnections: 1,000 Python connections (four processes of 250) open at once share
// the relay's one session, and each is served.
func TestRelayManyConnections(t *testing.T) {
	re := startRelayEnv(t, relayOpts{preauth: true})
	forEachPython(t, edgePythons(t), func(t *testing.T, py python) {
		const procs, per = 4, 250
		type proc struct {
			p     *pyProc
			stdin io.WriteCloser
		}
		ps := make([]proc, procs)
		for i := range ps {
			pr, pw := io.Pipe()
			ps[i].p, ps[i].stdin = startPythonStdin(t, py, pr, "relay_many.py", re.env.args("--conns", fmt.Sprint(per))...), pw
		}
		for _, p := range ps {
			var r struct{ Open int }
			p.p.JSONLine(2*time.Minute, &r)
			if r.Open != per {
				t.Fatalf("opened %d", r.Open)
			}
		}
		ss := re.ml.Sessions()
		if len(ss) != 1 {
			t.Fatalf("%d sessions, want 1", len(ss))
		}
		// Every connection is one stream, and each has been answered once.
		if n := ss[0].NumStreams(); n < procs*per {
			t.Fatalf("%d streams on the session, want at least %d", n, procs*per)
		}
		for _, p := range ps {
			p.stdin.Write([]byte("go\n"))
			p.stdin.Close()
		}
		for _, p := range ps {
			var r struct{ Ok int }
			p.p.JSONLine(2*time.Minute, &r)
			if r.Ok != per {
				t.Fatalf("%d of %d calls answered", r.Ok, per)
			}
			p.p.Wait(time.Minute)
		}
	})
}

// mpgoProc is a running mpgo command whose stdout and stderr lines are read as they come.
type mpgoProc struct {
	out, errs chan string
	stderr    lockedBuffer
}

// startMpgo runs the mpgo binary with args (and extra environment); it is killed when the test
// ends.
func startMpgo(t *testing.T, env []string, args ...string) *mpgoProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, mpgoBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &mpgoProc{out: make(chan string, 100), errs: make(chan string, 1000)}
	var wg sync.WaitGroup
	wg.Add(2)
	pump := func(r io.Reader, ch chan string, keep *lockedBuffer) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if keep != nil {
				keep.Write([]byte(sc.Text() + "\n"))
			}
			select {
			case ch <- sc.Text():
			default:
			}
		}
	}
	go pump(stdout, p.out, nil)
	go pump(stderr, p.errs, &p.stderr)
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		wg.Wait()
		cmd.Wait()
		cancel()
	})
	return p
}

// waitLine returns the rest of the first line on ch that starts with prefix (or contains it,
// with contains set).
func (p *mpgoProc) waitLine(t *testing.T, ch chan string, prefix string, contains bool) string {
	t.Helper()
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	for {
		select {
		case l := <-ch:
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return rest
			}
			if contains && strings.Contains(l, prefix) {
				return l
			}
		case <-timer.C:
			t.Fatalf("no line %q within a minute\n--- stderr ---\n%s", prefix, p.stderr.String())
		}
	}
}

// TestRelayCommand runs `mpgo serve --mux-address` and `mpgo relay` with certificate files and
// uses a queue through them from Python; a relay with an untrusted certificate logs why it has
// no session, and its clients are refused.
func TestRelayCommand(t *testing.T) {
	pki := testPKI(t)
	dir := t.TempDir()
	caFile, err := pki.CA.WriteCert(dir, "ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	srvCert, srvKey, err := pki.Server.WriteFiles(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	clCert, clKey, err := pki.Client.WriteFiles(dir, "relay")
	if err != nil {
		t.Fatal(err)
	}
	rogueCert, rogueKey, err := pki.Rogue.WriteFiles(dir, "rogue")
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("relay-command-key")
	keyEnv := "MPGO_AUTHKEY=" + string(key)
	srv := startMpgo(t, []string{keyEnv}, "serve", "--address", "127.0.0.1:0", "--queue", "get_queue",
		"--mux-address", "127.0.0.1:0", "--tls-cert", srvCert, "--tls-key", srvKey, "--tls-client-ca", caFile)
	srv.waitLine(t, srv.out, "mpgo: serving on ", false)
	muxAddr := srv.waitLine(t, srv.out, "mpgo: accepting relays on ", false)
	muxAddr = strings.TrimSuffix(muxAddr, " (mutual TLS)")
	rel := startMpgo(t, []string{keyEnv}, "relay", "--listen", "127.0.0.1:0", "--server", muxAddr,
		"--tls-ca", caFile, "--tls-cert", clCert, "--tls-key", clKey)
	relAddr, _, _ := strings.Cut(rel.waitLine(t, rel.out, "mpgo: relaying ", false), " ")
	rogue := startMpgo(t, nil, "relay", "--listen", "127.0.0.1:0", "--server", muxAddr, "--handshake-timeout", "300ms",
		"--tls-ca", caFile, "--tls-cert", rogueCert, "--tls-key", rogueKey)
	rogueAddr, _, _ := strings.Cut(rogue.waitLine(t, rogue.out, "mpgo: relaying ", false), " ")
	if l := rogue.waitLine(t, rogue.errs, "relay: no session with the server", true); !strings.Contains(l, "certificate") {
		t.Errorf("the untrusted relay's log does not name the certificate: %s", l)
	}
	forEachPython(t, nil, func(t *testing.T, py python) {
		args := append(tcpArgs(relAddr), "--authkey-hex", hexKey(key))
		var r struct{ Got []any }
		runPythonJSON(t, py, &r, "mgr_remote_queue.py", append(args, "--put", "x", "--get", "1")...)
		if fmt.Sprint(r.Got) != "[x]" {
			t.Fatalf("queue through mpgo relay: %v", r.Got)
		}
	})
	// Refusal does not depend on the Python version: one interpreter checks it.
	pys := pythons(t)
	cmd := pyCommand(t, pys[len(pys)-1], "mgr_remote_queue.py", append(tcpArgs(rogueAddr), "--authkey-hex", hexKey(key), "--get", "1")...)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("a client was served through the untrusted relay:\n%s", out)
	}
}
