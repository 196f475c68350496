package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/bench/internal/host"
	"github.com/mpgo/mpgo/bench/internal/loadgen"
)

// runPy runs the Python client sections: put/get with real proxies from 1, 2,
// 4 processes, and connect()+m.Queue() time.
func runPy(ctx context.Context, o *options, srvs []*server, scriptDir string, rep *report) {
	py, err := host.FindPython(o.pyClient)
	if err != nil {
		rep.Errors = append(rep.Errors, "python clients: "+err.Error())
		return
	}
	script := filepath.Join(scriptDir, "py_client.py")
	for _, s := range srvs {
		if o.sections["py"] && !s.echo {
			for _, n := range o.pyProcs {
				if ctx.Err() != nil {
					return
				}
				ops, h, err := pyOps(ctx, py, script, s, n, o.pyDur)
				if err != nil {
					msg := fmt.Sprintf("py %s %d procs: %v", s.name, n, err)
					fmt.Println(msg)
					rep.Errors = append(rep.Errors, msg)
					continue
				}
				if rep.Py[s.name] == nil {
					rep.Py[s.name] = map[string]*cellAgg{}
				}
				a := &cellAgg{}
				a.add(ops, h.Quantile(0.5), h.Quantile(0.99))
				rep.Py[s.name][strconv.Itoa(n)] = a
				fmt.Printf("  py %-12s %d procs %10.0f ops/s  p50 %8s  p99 %8s\n", s.name, n, ops,
					fmtDur(h.Quantile(0.5)), fmtDur(h.Quantile(0.99)))
			}
		}
		if o.sections["connect"] {
			mode := "connect"
			if s.echo {
				mode = "floor" // the same connections and round trips, no manager
			}
			c, err := pyConnect(ctx, py, script, s, mode, o.connectN)
			if err != nil {
				msg := fmt.Sprintf("connect %s: %v", connectLabel(s.name), err)
				fmt.Println(msg)
				rep.Errors = append(rep.Errors, msg)
				continue
			}
			rep.Connect[s.name] = c
			fmt.Printf("  connect %-12s median %.2f ms, client CPU %.2f ms\n", connectLabel(s.name), c.WallMS, c.ClientCPUMS)
		}
	}
}

// pyProc is one running py_client.py.
type pyProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
}

func startPy(py, script string, s *server, args ...string) (*pyProc, error) {
	all := append([]string{script, "--address", s.addr, "--authkey-hex", hex.EncodeToString(s.key)}, args...)
	p := &pyProc{cmd: exec.Command(py, all...)}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.out = bufio.NewReaderSize(out, 1<<20)
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pyProc) kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// readLine reads one stdout line within timeout.
func (p *pyProc) readLine(timeout time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	c := make(chan res, 1)
	go func() {
		s, err := p.out.ReadString('\n')
		c <- res{s, err}
	}()
	select {
	case r := <-c:
		if r.err != nil {
			return "", fmt.Errorf("%v (stderr: %s)", r.err, strings.TrimSpace(p.stderr.String()))
		}
		return strings.TrimSpace(r.s), nil
	case <-time.After(timeout):
		p.kill()
		return "", fmt.Errorf("timed out after %v (stderr: %s)", timeout, strings.TrimSpace(p.stderr.String()))
	}
}

func pyOps(ctx context.Context, py, script string, s *server, n int, dur time.Duration) (float64, *loadgen.Histogram, error) {
	procs := make([]*pyProc, 0, n)
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	for range n {
		p, err := startPy(py, script, s, "--mode", "ops", "--duration", fmt.Sprint(dur.Seconds()))
		if err != nil {
			return 0, nil, err
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		l, err := p.readLine(60 * time.Second)
		if err != nil {
			return 0, nil, err
		}
		if l != "READY" {
			return 0, nil, fmt.Errorf("unexpected %q", l)
		}
	}
	for _, p := range procs {
		io.WriteString(p.stdin, "GO\n")
	}
	var h loadgen.Histogram
	var ops int
	for _, p := range procs {
		l, err := p.readLine(dur + 60*time.Second)
		if err != nil {
			return 0, nil, err
		}
		var r struct {
			Ops   int     `json:"ops"`
			LatUS []int64 `json:"lat_us"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			return 0, nil, fmt.Errorf("bad output %.200q: %v", l, err)
		}
		ops += r.Ops
		for _, v := range r.LatUS {
			h.Record(time.Duration(v) * time.Microsecond)
		}
	}
	return float64(ops) / dur.Seconds(), &h, nil
}

// connectResult is the connect section's result for one server: medians of
// the wall time and of the Python client's own CPU time.
type connectResult struct {
	WallMS      float64 `json:"wall_ms_median"`
	ClientCPUMS float64 `json:"client_cpu_ms_median"`
}

// connectLabel names a server's row of the connect section: the echo
// server's is the transport floor (the same connections and round trips,
// no manager).
func connectLabel(server string) string {
	if server == "echo" {
		return "floor (echo)"
	}
	return server
}

// pyConnect runs py_client.py in mode "connect" (connect() + m.Queue()) or
// "floor" (the same connections and round trips against the echo server).
func pyConnect(ctx context.Context, py, script string, s *server, mode string, n int) (*connectResult, error) {
	p, err := startPy(py, script, s, "--mode", mode, "--n", strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	defer p.kill()
	l, err := p.readLine(time.Duration(n)*2*time.Second + 30*time.Second)
	if err != nil {
		return nil, err
	}
	var r struct {
		MS  []float64 `json:"connect_ms"`
		CPU []float64 `json:"cpu_ms"`
	}
	if err := json.Unmarshal([]byte(l), &r); err != nil {
		return nil, fmt.Errorf("bad output %.200q: %v", l, err)
	}
	return &connectResult{WallMS: median(r.MS), ClientCPUMS: median(r.CPU)}, nil
}
