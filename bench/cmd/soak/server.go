package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// server is the `mpgo serve` process under test.
type server struct {
	cmd       *exec.Cmd
	addr      string // host:port
	pprofAddr string // the mpgo_pprof build's HTTP address ("" without -goroutines)
	done      chan struct{}
	exitErr   error

	logLines atomic.Int64
	warnings atomic.Int64
	errors   atomic.Int64
	panics   atomic.Int64

	mu          sync.Mutex
	panicLines  []string
	errorLines  []string
	stderrTail  []string
	handshakeOK bool
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	a := l.Addr().String()
	l.Close()
	return a, nil
}

var servingRE = regexp.MustCompile(`serving on (\S+)`)

// startServer runs bin serve in its own process group until it prints its
// address. Its stderr (JSON log lines) is scanned for panics and errors.
// When logFile is not nil, every stderr line is also written to it.
// env is added to the server's environment.
func startServer(ctx context.Context, bin string, key []byte, pprof bool, extra []string, logFile io.Writer, env []string) (*server, error) {
	args := append([]string{"serve", "--address", "127.0.0.1:0", "--queue", "soakq", "--queue", "soakvq",
		"--log-format", "json"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "MPGO_AUTHKEY="+string(key), "GOTRACEBACK=all"), env...)
	s := &server{cmd: cmd, done: make(chan struct{})}
	if pprof {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s.pprofAddr = a
		cmd.Env = append(cmd.Env, "MPGO_PPROF="+a)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addrc := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			s.scanLog(sc.Text())
			if logFile != nil {
				fmt.Fprintln(logFile, sc.Text())
			}
		}
	}()
	go func() {
		readers.Wait()
		s.exitErr = cmd.Wait()
		close(s.done)
	}()
	select {
	case a := <-addrc:
		s.addr = a
	case <-s.done:
		return nil, fmt.Errorf("mpgo serve exited before listening: %v; stderr: %s", s.exitErr, strings.Join(s.tail(), "\n"))
	case <-time.After(30 * time.Second):
		s.kill()
		return nil, fmt.Errorf("mpgo serve printed no address within 30 s")
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
	if pprof {
		// The pprof listener starts in an init goroutine: wait until it answers.
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := s.goroutines(); err == nil {
				break
			} else if time.Now().After(deadline) {
				s.kill()
				return nil, fmt.Errorf("mpgo's pprof endpoint on %s: %v", s.pprofAddr, err)
			}
			select {
			case <-time.After(50 * time.Millisecond):
			case <-s.done:
				return nil, fmt.Errorf("mpgo serve exited: %v", s.exitErr)
			}
		}
	}
	return s, nil
}

var goroutineDump = regexp.MustCompile(`^goroutine \d+ \[`)

// scanLog classifies one stderr line: JSON log entries by level (and any
// message mentioning a panic), anything else that looks like a Go runtime
// panic or goroutine dump.
func (s *server) scanLog(line string) {
	s.logLines.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stderrTail = append(s.stderrTail, line)
	if len(s.stderrTail) > 20 {
		s.stderrTail = s.stderrTail[1:]
	}
	var e struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Err   string `json:"error"`
	}
	isPanic := false
	if json.Unmarshal([]byte(line), &e) == nil && e.Level != "" {
		text := strings.ToLower(e.Msg + " " + e.Err)
		switch e.Level {
		case "panic", "fatal":
			isPanic = true
		case "error":
			s.errors.Add(1)
			if len(s.errorLines) < 10 {
				s.errorLines = append(s.errorLines, line)
			}
		case "warning", "warn":
			s.warnings.Add(1)
		}
		if strings.Contains(text, "panic") {
			isPanic = true
		}
	} else if strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") || goroutineDump.MatchString(line) {
		isPanic = true
	}
	if isPanic {
		s.panics.Add(1)
		if len(s.panicLines) < 10 {
			s.panicLines = append(s.panicLines, line)
		}
	}
}

func (s *server) tail() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.stderrTail...)
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// kill ends the server's process group and waits for it.
func (s *server) kill() {
	syscall.Kill(-s.pid(), syscall.SIGKILL)
	<-s.done
}

// resources is one measurement of the server process.
type resources struct {
	RSSKiB     int64 `json:"rss_kib"`
	FDs        int64 `json:"fds"`
	Threads    int64 `json:"threads"`    // OS threads (not goroutines)
	Goroutines int64 `json:"goroutines"` // -1: not measured (no -goroutines)
	// The Go runtime's figures (KiB, -goroutines builds only), informational: heap and stack
	// in use, and heap memory free but not yet returned to the OS.
	HeapInuseKiB  int64 `json:"heap_inuse_kib"`
	StackInuseKiB int64 `json:"stack_inuse_kib"`
	HeapIdleKiB   int64 `json:"heap_idle_unreleased_kib"`
	Objects       int64 `json:"objects"` // number_of_objects
}

// procStatus reads VmRSS (KiB) and Threads from /proc/PID/status.
func procStatus(pid int) (rss, threads int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "Threads:":
			threads, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, threads, nil
}

func fdCount(pid int) (int64, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return int64(len(ents)), err
}

var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func (s *server) get(path string) (string, error) {
	resp, err := httpClient.Get("http://" + s.pprofAddr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", path, resp.Status)
	}
	return string(b), err
}

// goroutines reads the goroutine count from the pprof build's goroutine
// profile ("goroutine profile: total N"). The HTTP request's own goroutine is
// in it, the same in every measurement.
func (s *server) goroutines() (int64, error) {
	body, err := s.get("/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(body, "\n")
	n, ok := strings.CutPrefix(first, "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile header %q", first)
	}
	return strconv.ParseInt(strings.TrimSpace(n), 10, 64)
}

// forceGC makes the server collect garbage (the heap profile with gc=1),
// twice, so that sync.Pool caches (which survive one collection) are freed
// too and RSS is compared at the same point of the collector's cycle.
func (s *server) forceGC() {
	if s.pprofAddr != "" {
		s.get("/debug/pprof/heap?gc=1")
		s.get("/debug/pprof/heap?gc=1")
	}
}

// memStats reads the Go runtime's view of the server's memory from the
// pprof build's /debug/vars.
func (s *server) memStats() (heapInuse, stackInuse, idleNotReleased int64, err error) {
	body, err := s.get("/debug/vars")
	if err != nil {
		return 0, 0, 0, err
	}
	var v struct {
		Memstats struct{ HeapInuse, StackInuse, HeapIdle, HeapReleased int64 }
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return 0, 0, 0, err
	}
	m := v.Memstats
	return m.HeapInuse, m.StackInuse, m.HeapIdle - m.HeapReleased, nil
}

// measure takes one resources sample; objects comes from the caller (a
// number_of_objects call).
func (s *server) measure(objects int64) (resources, error) {
	r := resources{Goroutines: -1, Objects: objects}
	var err error
	if s.pprofAddr != "" {
		s.forceGC()
		if r.Goroutines, err = s.goroutines(); err != nil {
			return r, err
		}
		if r.HeapInuseKiB, r.StackInuseKiB, r.HeapIdleKiB, err = s.memStats(); err != nil {
			return r, err
		}
		r.HeapInuseKiB, r.StackInuseKiB, r.HeapIdleKiB = r.HeapInuseKiB>>10, r.StackInuseKiB>>10, r.HeapIdleKiB>>10
	}
	if r.RSSKiB, r.Threads, err = procStatus(s.pid()); err != nil {
		return r, err
	}
	r.FDs, err = fdCount(s.pid())
	return r, err
}
