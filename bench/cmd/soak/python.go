package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// python is one CPython interpreter.
type python struct {
	Path  string
	Major int
	Minor int
}

func (p python) String() string { return fmt.Sprintf("%d.%d", p.Major, p.Minor) }

// candidatePythons lists interpreter paths as compat_tests does: -pythons
// (versions such as 3.13 or paths, comma separated), else the PYTHONS
// environment variable (paths separated by spaces or commas), else every
// pyenv version, else python3 on PATH.
func candidatePythons(flagVal string) []string {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool {
			return r == ' ' || r == ',' || r == os.PathListSeparator || r == '\n' || r == '\t'
		})
	}
	var roots []string
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		roots = append(roots, r)
	}
	if out, err := exec.Command("pyenv", "root").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, ".pyenv"))
	}
	if flagVal != "" {
		var out []string
		for _, v := range split(flagVal) {
			if strings.ContainsRune(v, os.PathSeparator) {
				out = append(out, v)
				continue
			}
			found := ""
			for _, root := range roots {
				m, _ := filepath.Glob(filepath.Join(root, "versions", v+".*", "bin", "python"))
				if len(m) > 0 {
					sort.Strings(m)
					found = m[len(m)-1]
					break
				}
			}
			if found == "" {
				if p, err := exec.LookPath("python" + v); err == nil {
					found = p
				}
			}
			if found == "" {
				found = "python" + v // reported as not running below
			}
			out = append(out, found)
		}
		return out
	}
	if env := strings.TrimSpace(os.Getenv("PYTHONS")); env != "" {
		return split(env)
	}
	for _, root := range roots {
		if m, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "python")); len(m) > 0 {
			return m
		}
	}
	if p, err := exec.LookPath("python3"); err == nil {
		return []string{p}
	}
	return nil
}

// findPythons runs each candidate for its version, one per version, oldest first.
func findPythons(flagVal string) ([]python, error) {
	var out []python
	seen := map[string]bool{}
	for _, p := range candidatePythons(flagVal) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		v, err := exec.CommandContext(ctx, p, "-c", "import sys; print('%d %d' % sys.version_info[:2])").Output()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("interpreter %s does not run: %v", p, err)
		}
		py := python{Path: p}
		if _, err := fmt.Sscan(string(v), &py.Major, &py.Minor); err != nil {
			return nil, fmt.Errorf("interpreter %s: cannot parse version %q", p, v)
		}
		if !seen[py.String()] {
			seen[py.String()] = true
			out = append(out, py)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Major != out[j].Major {
			return out[i].Major < out[j].Major
		}
		return out[i].Minor < out[j].Minor
	})
	return out, nil
}

// pyProc is one Python client process; its stdout lines go to the ledger
// and the counters as they arrive.
type pyProc struct {
	id     string
	py     python
	victim bool
	slot   int
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited and its output is read

	mu      sync.Mutex
	want    bool // a victim logged WANT without VGOT/EMPTY yet
	ready   bool
	doneMsg bool
	stderr  []string
	exitErr error
}

// pyArgs are the object idents every Python client is given.
type pyArgs struct {
	script, host, port, keyHex, queueID, dictID, lockID, stop string
	pace                                                      time.Duration
}

// startPy starts one client (role stable or victim) with its own process group.
func (h *harness) startPy(py python, id string, victim bool, slot int, slotLockID string) (*pyProc, error) {
	a := h.pyArgs
	role := "stable"
	if victim {
		role = "victim"
	}
	cmd := exec.Command(py.Path, a.script, role, a.host, a.port, a.keyHex, id, a.queueID, a.dictID, a.lockID, slotLockID, a.stop,
		fmt.Sprintf("%g", a.pace.Seconds()))
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
	p := &pyProc{id: id, py: py, victim: victim, slot: slot, cmd: cmd, done: make(chan struct{})}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.pyLine(p, sc.Text())
		}
	}()
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			if len(p.stderr) < 40 {
				p.stderr = append(p.stderr, sc.Text())
			}
			p.mu.Unlock()
		}
	}()
	go func() {
		readers.Wait()
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// pyLine books one line of a client's log.
func (h *harness) pyLine(p *pyProc, line string) {
	kind, arg, _ := strings.Cut(line, " ")
	switch kind {
	case "PUT", "ACK":
		h.ledger.acked(arg)
		h.ops.add("py_put", 1)
	case "TRY":
		h.ledger.tried(arg)
	case "GOT":
		h.ledger.got(arg)
		h.ops.add("py_get", 1)
	case "WANT":
		p.mu.Lock()
		p.want = true
		p.mu.Unlock()
	case "VGOT":
		h.ledger.got(arg)
		h.ops.add("py_victim_get", 1)
		p.mu.Lock()
		p.want = false
		p.mu.Unlock()
	case "EMPTY":
		h.ops.add("py_get_empty", 1)
		p.mu.Lock()
		p.want = false
		p.mu.Unlock()
	case "DSET":
		h.ops.add("py_dict_set", 1)
	case "CRIT":
		h.ops.add("py_lock_critical_section", 1)
		h.crit.Add(1)
	case "VLOCK":
		h.ops.add("py_victim_lock", 1)
	case "VBUSY":
		h.ops.add("py_victim_lock_busy", 1)
	case "READY":
		p.mu.Lock()
		p.ready = true
		p.mu.Unlock()
		h.ops.add("py_connect", 1)
	case "DONE":
		p.mu.Lock()
		p.doneMsg = true
		p.mu.Unlock()
	default:
		h.problem("python client %s (%s) printed %q", p.id, p.py, line)
	}
}

// kill ends the client with SIGKILL and waits for its output to be read.
func (p *pyProc) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (p *pyProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *pyProc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stderr, "\n")
}

// victims keeps one victim client running per slot and kills one every
// interval, starting a new one (the next interpreter) in its place. After a
// kill it books a pending get as in flight and frees the slot's Lock if the
// victim died holding it.
func (h *harness) runVictims(ctx context.Context, pys []python, slots int, every time.Duration) {
	procs := make([]*pyProc, slots)
	next := 0
	start := func(i int) {
		if ctx.Err() != nil {
			return
		}
		py := pys[next%len(pys)]
		next++
		id := fmt.Sprintf("v%d", h.seq.Add(1))
		p, err := h.startPy(py, id, true, i, h.slotLocks[i].Token().ID)
		if err != nil {
			h.problem("start victim: %v", err)
			return
		}
		procs[i] = p
		h.ops.add("victims_started", 1)
	}
	// reap books a victim that ended (killed, or exited by itself).
	reap := func(i int, killed bool) {
		p := procs[i]
		if p == nil {
			return
		}
		procs[i] = nil
		p.mu.Lock()
		want := p.want
		p.mu.Unlock()
		if want {
			h.inFlight.Add(1)
		}
		if !killed {
			h.problem("victim %s (python %s) exited by itself: %v\n%s", p.id, p.py, p.exitErr, p.stderrText())
		}
		if err := h.freeSlotLock(i); err != nil {
			h.problem("slot lock %d: %v", i, err)
		}
	}
	for i := range procs {
		start(i)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for i, p := range procs {
				if p != nil {
					p.kill()
					h.faults.add("victim_killed", 1)
					reap(i, true)
				}
			}
			return
		case <-t.C:
		}
		for i, p := range procs {
			if p != nil && p.exited() {
				reap(i, false)
				start(i)
			}
		}
		i := h.rnd(slots)
		if p := procs[i]; p != nil {
			p.kill()
			h.faults.add("victim_killed", 1)
			reap(i, true)
		}
		start(i)
	}
}
