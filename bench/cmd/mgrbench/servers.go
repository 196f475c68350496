package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench/internal/loadgen"
)

// server is one benchmarked server process.
type server struct {
	name string
	addr string
	key  []byte
	echo bool
	cmd  *exec.Cmd
	done chan struct{}
	logs *tailBuffer
}

func (s *server) target() loadgen.Target {
	return loadgen.Target{Addr: s.addr, Key: s.key, Echo: s.echo}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop kills the server's process group and waits for it.
func (s *server) stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// tailBuffer keeps the last lines a process printed, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (t *tailBuffer) add(l string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, l)
	if len(t.lines) > 20 {
		t.lines = t.lines[len(t.lines)-20:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// startProcess runs cmd in its own process group and waits (bounded) until
// parse recognises an address in a line of its stdout or stderr.
func startProcess(ctx context.Context, name string, cmd *exec.Cmd, parse func(string) (string, bool)) (*server, error) {
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
	s := &server{name: name, cmd: cmd, done: make(chan struct{}), logs: &tailBuffer{}}
	addrc := make(chan string, 2)
	var readers sync.WaitGroup
	scan := func(r io.Reader) {
		defer readers.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			l := sc.Text()
			s.logs.add(l)
			if !found {
				if a, ok := parse(l); ok {
					found = true
					addrc <- a
				}
			}
		}
	}
	readers.Add(2)
	go scan(stdout)
	go scan(stderr)
	go func() {
		readers.Wait()
		cmd.Wait()
		close(s.done)
	}()
	select {
	case a := <-addrc:
		s.addr = a
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("%s exited before listening:\n%s", name, s.logs)
	case <-time.After(20 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s printed no address within 20s:\n%s", name, s.logs)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

var pyAddrRE = regexp.MustCompile(`^ADDRESS (\S+) (\d+)$`)

func startCPython(ctx context.Context, name, python, scriptDir string, key []byte) (*server, error) {
	cmd := exec.Command(python, filepath.Join(scriptDir, "cpython_server.py"), "--authkey-hex", hex.EncodeToString(key))
	s, err := startProcess(ctx, name, cmd, func(l string) (string, bool) {
		m := pyAddrRE.FindStringSubmatch(l)
		if m == nil {
			return "", false
		}
		return net.JoinHostPort(m[1], m[2]), true
	})
	if err != nil {
		return nil, err
	}
	s.key = key
	return s, nil
}

var goAddrRE = regexp.MustCompile(`(127\.0\.0\.1|localhost|\[::1\]):([1-9][0-9]*)`)

// startMpgo starts mpgo serve on a free loopback port, with extra arguments args (mgrbench's
// -mpgo-args).
func startMpgo(ctx context.Context, bin string, key []byte, extraEnv, args []string) (*server, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--address", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "MPGO_AUTHKEY="+string(key))
	cmd.Env = append(cmd.Env, extraEnv...)
	s, err := startProcess(ctx, "mpgo", cmd, func(l string) (string, bool) {
		if strings.Contains(strings.ToLower(l), "pprof") || strings.Contains(l, "http://") { // not the manager
			return "", false
		}
		m := goAddrRE.FindStringSubmatch(l)
		if m == nil {
			return "", false
		}
		return "127.0.0.1:" + m[2], true
	})
	if err != nil {
		return nil, err
	}
	s.key = key
	return s, nil
}

func startEcho(ctx context.Context, env []string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-role", "echo")
	cmd.Env = append(os.Environ(), env...)
	s, err := startProcess(ctx, "echo", cmd, func(l string) (string, bool) {
		a, ok := strings.CutPrefix(l, "ECHO ")
		return a, ok
	})
	if err != nil {
		return nil, err
	}
	s.echo = true
	return s, nil
}

// runEcho is the echo server role: read a length-prefixed frame, write it
// back with one Write; the loopback limit of the framing.
func runEcho() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("ECHO %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			loadgen.Echo(c)
		}()
	}
}

// cpuTime returns the user+system CPU time of a process (all its threads).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
