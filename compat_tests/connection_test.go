package compat_tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/pickle"
)

// These tests pair CPython's multiprocessing.connection with package
// connection in both directions: python_fixtures/conn_client.py (a Python
// Client) against a Go Listener, and python_fixtures/conn_server.py (a Python
// Listener) against Go's Dial. Each scenario's Python half is the function of
// the same name in the fixture.

var connKey = []byte("conn-compat-secret")

const (
	bigLen   = 64 << 20
	burstLen = 10000
)

// seedValue is the seed example [2.25, None, 'junk', float].
func seedValue() *pickle.List {
	return pickle.NewList(2.25, nil, "junk", pickle.Global{Module: "builtins", Name: "float"})
}

func checkPattern(p []byte) error {
	if len(p) != bigLen {
		return fmt.Errorf("got %d bytes, want %d", len(p), bigLen)
	}
	for i, b := range p {
		if b != byte(i) {
			return fmt.Errorf("byte %d is %d, want %d", i, b, byte(i))
		}
	}
	return nil
}

func bigPattern() []byte {
	p := make([]byte, bigLen)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

// arrayBytes is array('i', [42, 1729]) as Python's send_bytes sends it
// (native byte order: little-endian here).
func arrayBytes() []byte {
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 42), 1729)
}

type result map[string]any

func (r result) want(t *testing.T, key string, want any) {
	t.Helper()
	got, ok := r[key]
	if !ok || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("python %s = %v, want %v (result %v)", key, got, want, r)
	}
}

// recvEqual receives a value and checks that it equals want (Python ==).
func recvEqual(c *connection.Conn, want any) (any, error) {
	v, err := c.Recv()
	if err != nil {
		return nil, err
	}
	if !pickle.Equal(v, want) {
		return v, fmt.Errorf("received %s, want %s", pickle.Repr(v), pickle.Repr(want))
	}
	return v, nil
}

// goServerScenarios are the Go halves for a Python Client (conn_client.py).
var goServerScenarios = map[string]func(c *connection.Conn) error{
	"seed": func(c *connection.Conn) error {
		v, err := recvEqual(c, seedValue())
		if err != nil {
			return err
		}
		return c.Send(v)
	},
	"bytes_into": func(c *connection.Conn) error {
		buf := make([]byte, 16)
		n, err := c.RecvBytesInto(buf)
		if err != nil {
			return err
		}
		if !bytes.Equal(buf[:n], arrayBytes()) {
			return fmt.Errorf("received %x", buf[:n])
		}
		if err := c.SendBytes(buf[:n]); err != nil {
			return err
		}
		return c.SendBytes([]byte("0123456789abcdef"))
	},
	"big": func(c *connection.Conn) error {
		p, err := c.RecvBytes(0)
		if err != nil {
			return err
		}
		if err := checkPattern(p); err != nil {
			return err
		}
		return c.SendBytes(p)
	},
	"burst": func(c *connection.Conn) error {
		vals := make(chan any, 128)
		errc := make(chan error, 1)
		go func() {
			defer close(vals)
			for i := range burstLen {
				v, err := c.Recv()
				if err != nil {
					errc <- err
					return
				}
				if v != int64(i) {
					errc <- fmt.Errorf("message %d is %s", i, pickle.Repr(v))
					return
				}
				vals <- v
			}
			errc <- nil
		}()
		for v := range vals {
			if err := c.Send(v); err != nil {
				return err
			}
		}
		return <-errc
	},
	"poll": func(c *connection.Conn) error {
		if _, err := recvEqual(c, "go"); err != nil {
			return err
		}
		if err := c.Send("reply"); err != nil {
			return err
		}
		return c.Close()
	},
	"closed": func(c *connection.Conn) error { return c.Close() },
	"latency": func(c *connection.Conn) error {
		for {
			p, err := c.ReadFrame()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := c.WriteFrame(p); err != nil {
				return err
			}
		}
	},
	"peer_close": func(c *connection.Conn) error {
		if _, err := recvEqual(c, "bye"); err != nil {
			return err
		}
		if _, err := c.Recv(); err != io.EOF {
			return fmt.Errorf("after the peer closed: %v, want io.EOF", err)
		}
		return nil
	},
}

// checkClientResult checks what conn_client.py reported.
func checkClientResult(t *testing.T, scenario string, r result) {
	t.Helper()
	switch scenario {
	case "seed", "big", "burst", "peer_close":
		r.want(t, "ok", true)
	case "bytes_into":
		checkBytesIntoResult(t, r)
	case "poll":
		r.want(t, "poll0_idle", false)
		r.want(t, "poll_short_idle", false)
		r.want(t, "poll_data", true)
		r.want(t, "msg", "reply")
		r.want(t, "poll_eof", true)
		r.want(t, "eof", true)
	case "closed":
		r.want(t, "eof", true)
	case "latency":
		// Without quick ACKs each of these waits for a delayed ACK (~40 ms). Timing is
		// reported, never asserted (the project's rule: performance lives in benchmarks,
		// see BenchmarkConnVsCPython in bench/); the scenario still checks that the
		// round trips complete.
		for _, k := range []string{"connect_rt_seconds", "large_rt_median_seconds"} {
			v, ok := r[k].(float64)
			if !ok || v <= 0 {
				t.Errorf("%s missing from the fixture's result: %v", k, r)
				continue
			}
			t.Logf("%s: %.2f ms (about 40 ms would mean a delayed ACK)", k, v*1e3)
		}
	}
}

// socketPath returns a Unix socket path in a new directory that is removed when the test
// ends (short enough for sun_path, unlike t.TempDir's).
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mpgo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// abstractName returns a fresh abstract Unix socket address ("@prefix-pid-nanos").
func abstractName(prefix string) string {
	return fmt.Sprintf("@%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano())
}

// listenFor starts a Go Listener on transport for a Python client and
// returns it with the address to give the fixture.
func listenFor(t *testing.T, transport string, cfg *connection.Config) (*connection.Listener, string) {
	t.Helper()
	var l *connection.Listener
	var err error
	switch transport {
	case "tcp":
		l, err = connection.Listen("tcp", "127.0.0.1:0", cfg)
	case "unix":
		l, err = connection.Listen("unix", socketPath(t), cfg)
	case "abstract", "abstract_bytes":
		l, err = connection.Listen("unix", abstractName("mpgo-compat"), cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, l.Addr().String()
}

// skipIfBig skips a 64 MiB case under the race detector (see conn_race_test.go).
func skipIfBig(t *testing.T, big bool) {
	t.Helper()
	if big && skipBig {
		t.Skip("64 MiB message skipped under the race detector (see conn_race_test.go)")
	}
}

type clientCase struct {
	name, scenario, transport string
	big                       bool
}

var clientCases = []clientCase{
	{"seed", "seed", "tcp", false},
	{"bytes_into", "bytes_into", "tcp", false},
	{"big_64MiB", "big", "tcp", true},
	{"burst", "burst", "tcp", false},
	{"poll", "poll", "tcp", false},
	{"closed_by_go", "closed", "tcp", false},
	{"closed_by_python", "peer_close", "tcp", false},
	{"unix", "seed", "unix", false},
	{"abstract", "seed", "abstract", false},
	{"abstract_bytes", "seed", "abstract_bytes", false},
	{"latency", "latency", "tcp", false},
}

// TestConnPythonClient runs Python's Client against a Go Listener.
func TestConnPythonClient(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		for _, cc := range clientCases {
			t.Run(cc.name, func(t *testing.T) {
				skipIfBig(t, cc.big)
				if cc.transport == "abstract_bytes" && !py.AtLeast(3, 7) {
					t.Skip("Python 2.7 and 3.6 reject bytes addresses, so they cannot use an abstract address as Listener.address reports it (PROTOCOL.md 1.3)")
				}
				l, addr := listenFor(t, cc.transport, &connection.Config{AuthKey: connKey})
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				errc := make(chan error, 1)
				go func() {
					c, err := l.AcceptContext(ctx)
					if err != nil {
						errc <- err
						return
					}
					defer c.Close()
					errc <- goServerScenarios[cc.scenario](c)
				}()
				args := []string{"--address", addr, "--authkey-hex", hexKey(connKey), "--scenario", cc.scenario}
				if cc.transport == "abstract_bytes" {
					args = append(args, "--bytes-address")
				}
				var r result
				runPythonJSON(t, py, &r, "conn_client.py", args...)
				if err := <-errc; err != nil {
					t.Fatalf("go side: %v (python: %v)", err, r)
				}
				checkClientResult(t, cc.scenario, r)
			})
		}
		t.Run("wrong_key", func(t *testing.T) {
			herr := make(chan error, 1)
			l, addr := listenFor(t, "tcp", &connection.Config{
				AuthKey:          connKey,
				OnHandshakeError: func(_ net.Addr, err error) { herr <- err },
			})
			var r result
			runPythonJSON(t, py, &r, "conn_client.py", "--address", addr, "--authkey-hex", hexKey([]byte("wrong")), "--scenario", "seed")
			r.want(t, "auth_error", "AuthenticationError")
			select {
			case err := <-herr:
				if !errors.Is(err, connection.ErrAuthFailed) {
					t.Fatalf("go side: %v, want ErrAuthFailed", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("go side reported no handshake error")
			}
			// Nothing was accepted, so nothing was unpickled.
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if c, err := l.AcceptContext(ctx); err == nil {
				c.Close()
				t.Fatal("a connection with the wrong key was accepted")
			}
		})
	})
}

// goClientScenarios are the Go halves for a Python Listener (conn_server.py).
var goClientScenarios = map[string]func(c *connection.Conn) error{
	"seed": func(c *connection.Conn) error {
		if err := c.Send(seedValue()); err != nil {
			return err
		}
		_, err := recvEqual(c, seedValue())
		return err
	},
	"bytes_into": func(c *connection.Conn) error {
		if err := c.SendBytes(arrayBytes()); err != nil {
			return err
		}
		buf := make([]byte, 8)
		n, err := c.RecvBytesInto(buf)
		if err != nil || !bytes.Equal(buf[:n], arrayBytes()) {
			return fmt.Errorf("recv_bytes_into: %x, %v", buf[:n], err)
		}
		if err := c.SendBytes([]byte("0123456789abcdef")); err != nil {
			return err
		}
		_, err = c.RecvBytesInto(buf)
		var bts *connection.BufferTooShortError
		if !errors.As(err, &bts) || string(bts.Payload) != "0123456789abcdef" {
			return fmt.Errorf("16 bytes into 8: %v, want BufferTooShortError", err)
		}
		return c.Send("done")
	},
	"big": func(c *connection.Conn) error {
		if err := c.SendBytes(bigPattern()); err != nil {
			return err
		}
		p, err := c.RecvBytes(0)
		if err != nil {
			return err
		}
		if err := checkPattern(p); err != nil {
			return err
		}
		return c.Send("done")
	},
	"burst": func(c *connection.Conn) error {
		for i := range burstLen {
			if err := c.Send(i); err != nil {
				return err
			}
		}
		for i := range burstLen {
			v, err := c.Recv()
			if err != nil {
				return err
			}
			if v != int64(i) {
				return fmt.Errorf("message %d is %s", i, pickle.Repr(v))
			}
		}
		return c.Send("done")
	},
	"poll": func(c *connection.Conn) error {
		if ok, err := c.Poll(0); ok || err != nil {
			return fmt.Errorf("Poll(0) on an idle connection: %v, %v", ok, err)
		}
		if ok, err := c.Poll(50 * time.Millisecond); ok || err != nil {
			return fmt.Errorf("Poll(50ms) on an idle connection: %v, %v", ok, err)
		}
		if err := c.Send("go"); err != nil {
			return err
		}
		if ok, err := c.Poll(10 * time.Second); !ok || err != nil {
			return fmt.Errorf("Poll with a reply coming: %v, %v", ok, err)
		}
		if _, err := recvEqual(c, "reply"); err != nil {
			return err
		}
		return c.Close()
	},
	"closed": func(c *connection.Conn) error {
		if _, err := c.Recv(); err != io.EOF {
			return fmt.Errorf("after the Python side closed: %v, want io.EOF", err)
		}
		return nil
	},
}

// checkBytesIntoResult checks the bytes_into scenario's result (the same from both fixtures).
func checkBytesIntoResult(t *testing.T, r result) {
	t.Helper()
	r.want(t, "n", 8)
	r.want(t, "arr", []any{42, 1729, 0})
	r.want(t, "too_short_len", 16)
}

// checkServerResult checks what conn_server.py reported.
func checkServerResult(t *testing.T, scenario string, r result) {
	t.Helper()
	switch scenario {
	case "seed", "big", "burst", "closed":
		r.want(t, "ok", true)
	case "bytes_into":
		checkBytesIntoResult(t, r)
	case "poll":
		r.want(t, "poll_wait", true)
		r.want(t, "msg", "go")
		r.want(t, "poll0_idle", false)
		r.want(t, "poll_eof", true)
		r.want(t, "eof", true)
	}
}

// pythonListenerAddress returns the address argument for conn_server.py.
func pythonListenerAddress(t *testing.T, transport string) string {
	switch transport {
	case "tcp":
		return "127.0.0.1:0"
	case "unix":
		return socketPath(t)
	case "abstract":
		return abstractName("mpgo-compat-py")
	}
	t.Fatalf("transport %q", transport)
	return ""
}

var serverCases = []clientCase{
	{"seed", "seed", "tcp", false},
	{"bytes_into", "bytes_into", "tcp", false},
	{"big_64MiB", "big", "tcp", true},
	{"burst", "burst", "tcp", false},
	{"poll", "poll", "tcp", false},
	{"closed_by_python", "closed", "tcp", false},
	{"unix", "seed", "unix", false},
	{"abstract", "seed", "abstract", false},
}

// TestConnPythonListener runs Go's Dial against Python's Listener.
func TestConnPythonListener(t *testing.T) {
	forEachPython(t, nil, func(t *testing.T, py python) {
		for _, sc := range serverCases {
			t.Run(sc.name, func(t *testing.T) {
				skipIfBig(t, sc.big)
				p := startPython(t, py, "conn_server.py", "--address", pythonListenerAddress(t, sc.transport),
					"--authkey-hex", hexKey(connKey), "--scenario", sc.scenario)
				var ready struct{ Address string }
				p.JSONLine(30*time.Second, &ready)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				c, err := connection.Dial(ctx, "", ready.Address, &connection.Config{AuthKey: connKey})
				if err != nil {
					t.Fatalf("dial %q: %v\n--- python stderr ---\n%s", ready.Address, err, p.Stderr())
				}
				defer c.Close()
				if err := goClientScenarios[sc.scenario](c); err != nil {
					t.Fatalf("go side: %v\n--- python stderr ---\n%s", err, p.Stderr())
				}
				var r result
				p.JSONLine(2*time.Minute, &r)
				p.Wait(30 * time.Second)
				checkServerResult(t, sc.scenario, r)
			})
		}
		t.Run("wrong_key", func(t *testing.T) {
			p := startPython(t, py, "conn_server.py", "--address", "127.0.0.1:0",
				"--authkey-hex", hexKey(connKey), "--scenario", "seed")
			var ready struct{ Address string }
			p.JSONLine(30*time.Second, &ready)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := connection.Dial(ctx, "", ready.Address, &connection.Config{AuthKey: []byte("wrong")})
			if err == nil {
				c.Close()
				t.Fatal("dial with the wrong key succeeded")
			}
			if !errors.Is(err, connection.ErrAuthFailed) {
				t.Fatalf("err = %v, want ErrAuthFailed", err)
			}
			var r result
			p.JSONLine(30*time.Second, &r)
			p.Wait(30 * time.Second)
			r.want(t, "auth_error", "AuthenticationError")
		})
	})
}

// TestConnEcho runs every interpreter's Client against the `mpgo echo`
// binary: objects come back equal (re-encoded by mpgo), raw messages byte for
// byte.
func TestConnEcho(t *testing.T) {
	bin := mpgoBinary(t)
	forEachPython(t, nil, func(t *testing.T, py python) {
		for _, keyed := range []bool{true, false} {
			name, args, keyArg := "authkey", []string{"echo", "--authkey", string(connKey)}, hexKey(connKey)
			if !keyed {
				name, args, keyArg = "no_authkey", []string{"echo"}, "none"
			}
			t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, args...)
				cmd.Env = filterEnv(os.Environ(), "MPGO_AUTHKEY")
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer func() {
					cmd.Process.Signal(os.Interrupt)
					done := make(chan error, 1)
					go func() { done <- cmd.Wait() }()
					select {
					case err := <-done:
						if err != nil {
							t.Errorf("mpgo echo did not exit cleanly on SIGINT: %v\n%s", err, stderr.String())
						}
					case <-time.After(10 * time.Second):
						cmd.Process.Kill()
						t.Error("mpgo echo ignored SIGINT")
					}
				}()
				line, err := bufio.NewReader(out).ReadBytes('\n')
				if err != nil {
					t.Fatalf("no startup line: %v\n%s", err, stderr.String())
				}
				var ready struct {
					Address       string
					Authenticated bool
				}
				if err := json.Unmarshal(line, &ready); err != nil || ready.Authenticated != keyed {
					t.Fatalf("startup line %q: %v", line, err)
				}
				var r result
				runPythonJSON(t, py, &r, "conn_echo_client.py", "--address", ready.Address, "--authkey-hex", keyArg)
				r.want(t, "ok", true)
			})
		}
	})
}

func filterEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
