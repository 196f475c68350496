//go:build linux

package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// cpuSet is a sched_setaffinity(2) mask for up to 1024 CPUs.
type cpuSet [16]uint64

func (s *cpuSet) add(cpu int)      { s[cpu/64] |= 1 << (cpu % 64) }
func (s *cpuSet) has(cpu int) bool { return s[cpu/64]&(1<<(cpu%64)) != 0 }

func (s *cpuSet) count() int {
	n := 0
	for c := range 1024 {
		if s.has(c) {
			n++
		}
	}
	return n
}

func (s *cpuSet) String() string {
	var cs []string
	for c := range 1024 {
		if s.has(c) {
			cs = append(cs, strconv.Itoa(c))
		}
	}
	return strings.Join(cs, ",")
}

// parseCPUs reads a list such as "0", "0,2" or "4-7".
func parseCPUs(spec string) (cpuSet, error) {
	var s cpuSet
	for _, f := range splitList(spec) {
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= 1024 {
			return s, fmt.Errorf("bad CPU list %q", spec)
		}
		for c := a; c <= b; c++ {
			s.add(c)
		}
	}
	if s.count() == 0 {
		return s, fmt.Errorf("empty CPU list %q", spec)
	}
	return s, nil
}

func getAffinity(tid int) (cpuSet, error) {
	var s cpuSet
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(s), uintptr(unsafe.Pointer(&s)))
	if e != 0 {
		return s, e
	}
	return s, nil
}

func setAffinity(tid int, s *cpuSet) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(*s), uintptr(unsafe.Pointer(s)))
	if e != 0 {
		return e
	}
	return nil
}

// pinning splits the machine between the load generator and the servers
// for the go section.
//
// With both on the same few CPUs the kernel time-slices them against each
// other: a server thread preempted for a scheduler slice (milliseconds)
// shows up as a p99 of many times the p50, and spinning Go schedulers on both
// sides burn the CPU the other needs. On this project's 2-vCPU development
// machine that cost mpgo and the echo server a third of their throughput and
// tripled their p99, and CPython's server threads fought for the GIL across
// both CPUs (11k ops/s unpinned, 30k pinned). Every server gets the same
// CPUs, so the comparison stays fair.
//
// The other sections run unpinned: one Python client and a server taking
// turns are fastest on whichever CPU is awake, and a server pinned to an
// otherwise idle virtual CPU pays for waking it at every request (several
// hundred microseconds here).
type pinning struct {
	gen, srv cpuSet
	all      cpuSet // this process's mask at start, restored by unpin
	genProcs int    // GOMAXPROCS to restore
}

// newPinning parses -pin: "off", "auto" (the generator on the lower half of
// this process's CPUs, the servers on the upper half; off with one CPU), or
// "GEN/SRV" CPU lists such as "0/1" or "0-3/4-7".
func newPinning(spec string) (*pinning, error) {
	if spec == "off" || spec == "" {
		return nil, nil
	}
	all, err := getAffinity(0)
	if err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	p := &pinning{all: all}
	if spec == "auto" {
		var cpus []int
		for c := range 1024 {
			if all.has(c) {
				cpus = append(cpus, c)
			}
		}
		if len(cpus) < 2 {
			return nil, nil
		}
		for i, c := range cpus {
			if i < len(cpus)/2 {
				p.gen.add(c)
			} else {
				p.srv.add(c)
			}
		}
		return p, nil
	}
	g, sv, ok := strings.Cut(spec, "/")
	if !ok {
		return nil, fmt.Errorf("-pin %q: want off, auto or GEN/SRV CPU lists", spec)
	}
	if p.gen, err = parseCPUs(g); err == nil {
		p.srv, err = parseCPUs(sv)
	}
	if err != nil {
		return nil, fmt.Errorf("-pin: %w", err)
	}
	return p, nil
}

func (p *pinning) String() string {
	if p == nil {
		return "off"
	}
	return fmt.Sprintf("go section: generator on CPU %s, servers on CPU %s", p.gen.String(), p.srv.String())
}

// goEnv is the environment for the Go servers (mpgo, echo): GOMAXPROCS set
// to the servers' CPU count. Go sizes GOMAXPROCS from the CPU mask at start
// and re-reads it only from its system monitor, which sleeps while the
// process is idle, so a server pinned between two cells would run its first
// cell with one P per CPU it no longer has, spinning on the one it has. The
// sections that run unpinned need no more: there the server's CPU time per
// request is a tenth of each Python client's.
func (p *pinning) goEnv() []string {
	if p == nil {
		return nil
	}
	return []string{"GOMAXPROCS=" + strconv.Itoa(p.srv.count())}
}

// pin moves every thread of this process onto the generator's CPUs (and
// sets GOMAXPROCS to match), and every thread of the servers' processes onto
// the servers' CPUs. Threads created later inherit the mask of the thread
// that creates them.
func (p *pinning) pin(pids []int) {
	if p == nil {
		return
	}
	p.genProcs = runtime.GOMAXPROCS(p.gen.count())
	setAllThreads(os.Getpid(), &p.gen)
	for _, pid := range pids {
		setAllThreads(pid, &p.srv)
	}
}

// unpin gives this process and the servers every CPU back.
func (p *pinning) unpin(pids []int) {
	if p == nil {
		return
	}
	setAllThreads(os.Getpid(), &p.all)
	for _, pid := range pids {
		setAllThreads(pid, &p.all)
	}
	runtime.GOMAXPROCS(p.genProcs)
}

func setAllThreads(pid int, s *cpuSet) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return
	}
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			setAffinity(tid, s) // a thread may have exited meanwhile
		}
	}
}
