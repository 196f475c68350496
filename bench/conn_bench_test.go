package bench_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/bench/internal/loadgen"
	"github.com/mpgo/mpgo/connection"
)

// BenchmarkConnVsCPython measures, in one run, message round trips and
// connect times for package connection, a plain length-prefixed echo (the
// limit) and CPython's multiprocessing.connection Listener/Client, and
// reports the ratios. It runs one pass whatever b.N is:
//
//	go test -run '^$' -bench ConnVsCPython -benchtime 1x -v ./bench/
//
// PYTHON selects the interpreter (default: the newest pyenv version, else
// python3). It only reports; nothing here asserts timings.
func BenchmarkConnVsCPython(b *testing.B) {
	py := connBenchPython(b)
	const rtN, connectN = 20000, 300
	key := []byte("conn-bench-key")
	keyHex := hex.EncodeToString(key)
	var report []string
	logf := func(format string, a ...any) {
		line := fmt.Sprintf(format, a...)
		report = append(report, line)
		b.Log(line)
	}
	for b.Loop() {
		plain := startPlainEcho(b)
		mpgo := startConnEcho(b, &connection.Config{AuthKey: key}, false)
		mpgoPickle := startConnEcho(b, &connection.Config{AuthKey: key}, true)
		mpgoNoQA := startConnEcho(b, &connection.Config{AuthKey: key, DisableQuickAck: true}, false)
		mpgoPickleNoQA := startConnEcho(b, &connection.Config{AuthKey: key, DisableQuickAck: true}, true)
		cpy := startPyEchoServer(b, py, keyHex, false)
		cpyPickle := startPyEchoServer(b, py, keyHex, true)

		// Go clients.
		goPlain := goPlainRT(b, plain, rtN)
		goConn := goConnRT(b, mpgo, key, rtN, false)
		goConnCPy := goConnRT(b, cpy, key, rtN, false)
		goPickle := goConnRT(b, mpgoPickle, key, rtN, true)
		goPickleCPy := goConnRT(b, cpyPickle, key, rtN, true)
		logf("Go client, 16-byte messages, median round trip:")
		logf("  plain length-prefixed echo (limit)  %7.1f us", goPlain)
		logf("  mpgo Listener (Conn)                %7.1f us   x%.2f of the limit", goConn, goConn/goPlain)
		logf("  CPython Listener                    %7.1f us   x%.2f of the limit", goConnCPy, goConnCPy/goPlain)
		logf("Go client, pickled ['put', 42, 2.5], median round trip:")
		logf("  mpgo Listener (Recv/Send)           %7.1f us", goPickle)
		logf("  CPython Listener (recv/send)        %7.1f us   mpgo is x%.2f faster", goPickleCPy, goPickleCPy/goPickle)

		// CPython clients.
		pyPlain := pyRT(b, py, plain, "none", rtN, false)
		pyMpgo := pyRT(b, py, mpgo, keyHex, rtN, false)
		pyCPy := pyRT(b, py, cpy, keyHex, rtN, false)
		pyMpgoP := pyRT(b, py, mpgoPickle, keyHex, rtN, true)
		pyMpgoNoQA := pyRT(b, py, mpgoNoQA, keyHex, rtN, false)
		pyMpgoPNoQA := pyRT(b, py, mpgoPickleNoQA, keyHex, rtN, true)
		pyCPyP := pyRT(b, py, cpyPickle, keyHex, rtN, true)
		logf("CPython %s client (send_bytes/recv_bytes, 16 bytes), median round trip:", pyVersion(b, py))
		logf("  plain length-prefixed echo (limit)  %7.1f us", pyPlain)
		logf("  mpgo Listener                       %7.1f us   x%.2f of the limit", pyMpgo, pyMpgo/pyPlain)
		logf("  mpgo Listener, TCP_QUICKACK off     %7.1f us   x%.2f of the limit", pyMpgoNoQA, pyMpgoNoQA/pyPlain)
		logf("  CPython Listener                    %7.1f us   x%.2f of the limit", pyCPy, pyCPy/pyPlain)
		logf("CPython client (send/recv of ['put', 42, 2.5]), median round trip:")
		logf("  mpgo Listener                       %7.1f us", pyMpgoP)
		logf("  mpgo Listener, TCP_QUICKACK off     %7.1f us", pyMpgoPNoQA)
		logf("  CPython Listener                    %7.1f us   mpgo is x%.2f faster", pyCPyP, pyCPyP/pyMpgoP)

		// Frames over 16 KiB: CPython writes the header and the payload
		// separately, so Nagle holds the payload until the header is ACKed.
		const large, largeN = 20 << 10, 300
		pyL := pyRTSize(b, py, plain, "none", largeN, large, false)
		pyLQ := pyRTSize(b, py, mpgo, keyHex, largeN, large, false)
		pyLN := pyRTSize(b, py, mpgoNoQA, keyHex, largeN, large, false)
		pyLC := pyRTSize(b, py, cpy, keyHex, largeN, large, false)
		logf("CPython client, 20 KiB messages (header and payload written separately), median round trip:")
		logf("  plain length-prefixed echo          %7.1f us", pyL)
		logf("  mpgo Listener, TCP_QUICKACK on      %7.1f us", pyLQ)
		logf("  mpgo Listener, TCP_QUICKACK off     %7.1f us", pyLN)
		logf("  CPython Listener                    %7.1f us", pyLC)

		// Connect time: Client() + handshake + one round trip.
		cq := pyConnect(b, py, mpgo, keyHex, connectN)
		cn := pyConnect(b, py, mpgoNoQA, keyHex, connectN)
		cc := pyConnect(b, py, cpy, keyHex, connectN)
		logf("CPython Client() + handshake + first send/recv (%d connects):", connectN)
		logf("  mpgo, TCP_QUICKACK on (default)     median %6.2f ms  p90 %6.2f ms", cq.Median, cq.P90)
		logf("  mpgo, TCP_QUICKACK off              median %6.2f ms  p90 %6.2f ms", cn.Median, cn.P90)
		logf("  CPython Listener                    median %6.2f ms  p90 %6.2f ms", cc.Median, cc.P90)

		b.ReportMetric(goConn/goPlain, "conn/plain")
		b.ReportMetric(goPickleCPy/goPickle, "cpython/mpgo-pickle-rt")
		b.ReportMetric(cq.Median, "connect-ms-quickack")
		b.ReportMetric(cn.Median, "connect-ms-no-quickack")
	}
	if out := os.Getenv("MPGO_CONN_BENCH_OUT"); out != "" {
		os.WriteFile(out, []byte(strings.Join(report, "\n")+"\n"), 0o644)
	}
}

func connBenchPython(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("PYTHON"); p != "" {
		return p
	}
	if out, err := exec.Command("pyenv", "root").Output(); err == nil {
		root := strings.TrimSpace(string(out))
		for _, v := range []string{"3.13", "3.12", "3.11"} {
			m, _ := filepath.Glob(filepath.Join(root, "versions", v+".*", "bin", "python"))
			if len(m) > 0 {
				return m[0]
			}
		}
	}
	if p, err := exec.LookPath("python3"); err == nil {
		return p
	}
	tb.Skip("no Python interpreter (set PYTHON)")
	return ""
}

func pyVersion(tb testing.TB, py string) string {
	out, err := exec.Command(py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func connScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "conn_roundtrip.py")
}

// startPlainEcho runs the limit: a Go length-prefixed echo with no handshake
// and no buffering.
func startPlainEcho(tb testing.TB) string {
	tb.Helper()
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nl.Close() })
	go func() {
		for {
			c, err := nl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				loadgen.Echo(c)
			}()
		}
	}()
	return nl.Addr().String()
}

// startConnEcho runs a connection.Listener echoing raw frames (or, with
// pickled, decoding and re-encoding every object).
func startConnEcho(tb testing.TB, cfg *connection.Config, pickled bool) string {
	tb.Helper()
	l, err := connection.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.AcceptConn()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					if pickled {
						v, err := c.Recv()
						if err != nil || c.Send(v) != nil {
							return
						}
						continue
					}
					p, err := c.ReadFrame()
					if err != nil || c.WriteFrame(p) != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func startPyEchoServer(tb testing.TB, py, keyHex string, pickled bool) string {
	tb.Helper()
	args := []string{connScript(), "server", "--address", "127.0.0.1:0", "--authkey-hex", keyHex}
	if pickled {
		args = append(args, "--pickle")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cancel(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		tb.Fatalf("python server: %v", err)
	}
	var r struct{ Address string }
	if err := json.Unmarshal(line, &r); err != nil {
		tb.Fatalf("python server: %q: %v", line, err)
	}
	return r.Address
}

func median(xs []time.Duration) float64 {
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	return float64(xs[len(xs)/2]) / 1e3
}

func goPlainRT(tb testing.TB, addr string, n int) float64 {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	out := binary.BigEndian.AppendUint32(nil, 16)
	out = append(out, make([]byte, 16)...)
	in := make([]byte, len(out))
	times := make([]time.Duration, n)
	for i := range n {
		t0 := time.Now()
		if _, err := c.Write(out); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			tb.Fatal(err)
		}
		times[i] = time.Since(t0)
	}
	return median(times)
}

func goConnRT(tb testing.TB, addr string, key []byte, n int, pickled bool) float64 {
	c, err := connection.Dial(context.Background(), "tcp", addr, &connection.Config{AuthKey: key, Protocol: 4})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 16)
	obj := []any{"put", 42, 2.5}
	buf := make([]byte, 64)
	times := make([]time.Duration, n)
	for i := range n {
		t0 := time.Now()
		if pickled {
			if err := c.Send(obj); err != nil {
				tb.Fatal(err)
			}
			if _, err := c.Recv(); err != nil {
				tb.Fatal(err)
			}
		} else {
			if err := c.WriteFrame(msg); err != nil {
				tb.Fatal(err)
			}
			if _, err := c.RecvBytesInto(buf); err != nil {
				tb.Fatal(err)
			}
		}
		times[i] = time.Since(t0)
	}
	return median(times)
}

func runPyJSON(tb testing.TB, py string, v any, args ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, append([]string{connScript()}, args...)...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		tb.Fatalf("python %v: %v\n%s", args, err, stderr)
	}
	if err := json.Unmarshal(out, v); err != nil {
		tb.Fatalf("python %v: %q: %v", args, out, err)
	}
}

func pyRT(tb testing.TB, py, addr, keyHex string, n int, pickled bool) float64 {
	return pyRTSize(tb, py, addr, keyHex, n, 16, pickled)
}

func pyRTSize(tb testing.TB, py, addr, keyHex string, n, size int, pickled bool) float64 {
	args := []string{"client", "--address", addr, "--authkey-hex", keyHex, "--mode", "rt", "--n", fmt.Sprint(n), "--size", fmt.Sprint(size)}
	if pickled {
		args = append(args, "--pickle")
	}
	var r struct {
		MedianUS float64 `json:"median_us"`
	}
	runPyJSON(tb, py, &r, args...)
	return r.MedianUS
}

type connectTimes struct {
	Median float64 `json:"median_ms"`
	P90    float64 `json:"p90_ms"`
}

func pyConnect(tb testing.TB, py, addr, keyHex string, n int) connectTimes {
	var r connectTimes
	runPyJSON(tb, py, &r, "client", "--address", addr, "--authkey-hex", keyHex, "--mode", "connect", "--n", fmt.Sprint(n))
	return r
}
