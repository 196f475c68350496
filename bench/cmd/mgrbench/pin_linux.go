//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
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

// pinning splits the machine between the load generator and the servers.
//
// With both on the same few CPUs the kernel time-slices them against each
// other: a server thread preempted for a scheduler slice (milliseconds)
// shows up as a p99 of many times the p50, and spinning Go schedulers on both
// sides burn the CPU the other needs. On this project's 2-vCPU development
// machine that cost mpgo and the echo server a third of their throughput and
// tripled their p99. Every server gets the same CPUs (CPython's included:
// its GIL runs one thread at a time anyway), so the comparison stays fair.
type pinning struct {
	gen, srv cpuSet
	all      cpuSet // this process's mask at start, restored after the go section
	genProcs int    // GOMAXPROCS to restore
}

// newPinning parses -pin: "off", "auto" (the generator on the lower half of
// this process's CPUs, the servers on the upper half; off with one CPU), or
// "GEN/SRV" CPU lists such as "0/1" or "0-3/4-7".
func newPinning(spec string) (*pinning, error) {
	all, err := getAffinity(0)
	if err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	p := &pinning{all: all}
	switch spec {
	case "off", "":
		return nil, nil
	case "auto":
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
	default:
		g, s, ok := strings.Cut(spec, "/")
		if !ok {
			return nil, fmt.Errorf("-pin %q: want off, auto or GEN/SRV CPU lists", spec)
		}
		if p.gen, err = parseCPUs(g); err == nil {
			p.srv, err = parseCPUs(s)
		}
		if err != nil {
			return nil, fmt.Errorf("-pin: %w", err)
		}
	}
	return p, nil
}

func (p *pinning) String() string {
	if p == nil {
		return "off"
	}
	return fmt.Sprintf("generator on CPU %s, servers on CPU %s", p.gen.String(), p.srv.String())
}

// start starts cmd with the servers' CPUs: the child inherits the affinity
// of the thread that forks it, so that thread is pinned for the fork and
// restored after.
func (p *pinning) start(cmd *exec.Cmd) error {
	if p == nil {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	old, err := getAffinity(tid)
	if err != nil {
		return err
	}
	if err := setAffinity(tid, &p.srv); err != nil {
		return fmt.Errorf("sched_setaffinity: %w", err)
	}
	err = cmd.Start()
	if rerr := setAffinity(tid, &old); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// pinGenerator moves every thread of this process onto the generator's CPUs
// (threads created later inherit it) and sets GOMAXPROCS to match; unpin
// undoes both, so that the Python clients of later sections can use every
// CPU.
func (p *pinning) pinGenerator() {
	if p == nil {
		return
	}
	p.genProcs = runtime.GOMAXPROCS(p.gen.count())
	setAllThreads(&p.gen)
}

func (p *pinning) unpin() {
	if p == nil {
		return
	}
	setAllThreads(&p.all)
	runtime.GOMAXPROCS(p.genProcs)
}

func setAllThreads(s *cpuSet) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			setAffinity(tid, s) // a thread may have exited meanwhile
		}
	}
}
