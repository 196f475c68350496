package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mpgo/mpgo/pickle"
)

type result struct{ cpu, wall, gc float64 } // ns/op; gc: the garbage collector's share of cpu

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcCPU returns the CPU time the garbage collector has used so far (the
// runtime's estimate, updated at each GC cycle).
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return s[0].Value.Float64() * 1e9
}

// measure runs f in rounds of about d and returns the best CPU and wall
// times per call.
func measure(f func(), d time.Duration, rounds int) result {
	n := 1
	for {
		t0 := time.Now()
		for range n {
			f()
		}
		if el := time.Since(t0); el >= d/4 {
			n = max(1, int(float64(n)*float64(d)/float64(el)))
			break
		}
		n *= 4
	}
	best := result{cpu: -1, wall: -1, gc: -1}
	for range rounds {
		runtime.GC()
		c0, t0, g0 := cpuNow(), time.Now(), gcCPU()
		for range n {
			f()
		}
		cpu := float64(cpuNow()-c0) / float64(n)
		gc := (gcCPU() - g0) / float64(n)
		wall := float64(time.Since(t0)) / float64(n)
		if best.cpu < 0 || cpu < best.cpu {
			best.cpu, best.gc = cpu, gc
		}
		if best.wall < 0 || wall < best.wall {
			best.wall = wall
		}
	}
	return best
}

func dict(kv ...any) *pickle.Dict {
	d := pickle.NewDict()
	for i := 0; i < len(kv); i += 2 {
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			panic(err)
		}
	}
	return d
}

// benchCase builds its value on demand: a measurement keeps only its own
// case's data alive. Go's collector marks everything live at each cycle, so
// a decode timed while the other cases' values (the 10,000 dicts above all)
// sit in the heap would be charged for marking them, a cost of the program
// around the codec rather than of the codec; CPython's reference counting
// has no such cost to compare with.
type benchCase struct {
	name  string
	build func() any
}

func cases() []benchCase {
	return []benchCase{
		{"request", func() any {
			return pickle.Tuple{"7f3a2b1c", "put", pickle.Tuple{dict("id", int64(1), "payload", bytes.Repeat([]byte("x"), 100), "tags", pickle.NewList("a", "b"))}, pickle.NewDict()}
		}},
		{"bytes1MiB", func() any { return bytes.Repeat([]byte{0xab}, 1<<20) }},
		{"dicts10k", func() any {
			items := make([]any, 10000)
			for i := range items {
				items[i] = dict("id", int64(i), "name", fmt.Sprintf("item%d", i), "score", float64(i)*0.5)
			}
			return pickle.NewList(items...)
		}},
	}
}

func goRound(cs []benchCase, d time.Duration, into map[string]result) {
	for _, c := range cs {
		data, err := pickle.Marshal(c.build())
		if err != nil {
			panic(err)
		}
		keep(into, c.name+"/decode", measure(func() {
			var v any
			if err := pickle.Unmarshal(data, &v); err != nil {
				panic(err)
			}
		}, d, 3))
		// UnmarshalOwned: bytes values share the input (a frame read for
		// this one pickle); the input is only read, so it can be reused
		keep(into, c.name+"/decode-owned", measure(func() {
			var v any
			if err := pickle.UnmarshalOwned(data, &v); err != nil {
				panic(err)
			}
		}, d, 3))
		data = nil
		v := c.build()
		keep(into, c.name+"/encode", measure(func() {
			if _, err := pickle.Marshal(v); err != nil {
				panic(err)
			}
		}, d, 3))
	}
}

func keep(m map[string]result, k string, r result) {
	if old, ok := m[k]; ok {
		if old.cpu < r.cpu {
			r.gc = old.gc
		}
		r.cpu = min(r.cpu, old.cpu)
		r.wall = min(r.wall, old.wall)
	}
	m[k] = r
}

func pyRound(python, script string, d time.Duration, into map[string]result) error {
	out, err := exec.Command(python, script, "--cpu", "--time", strconv.FormatFloat(d.Seconds(), 'f', 3, 64)).Output()
	if err != nil {
		return fmt.Errorf("%s %s: %v", python, script, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text()) // case op wall_ns bytes cpu_ns
		if len(f) < 5 {
			continue
		}
		wall, _ := strconv.ParseFloat(f[2], 64)
		cpu, _ := strconv.ParseFloat(f[4], 64)
		keep(into, f[0]+"/"+f[1], result{cpu: cpu, wall: wall})
	}
	return sc.Err()
}

func main() {
	python := flag.String("python", "python3", "CPython interpreter to compare with")
	rounds := flag.Int("rounds", 3, "alternating rounds of each side")
	d := flag.Duration("time", 300*time.Millisecond, "measuring time per case, operation and round")
	flag.Parse()
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "pickle_bench.py")
	if _, err := os.Stat(script); err != nil {
		script = filepath.Join("bench", "pickle_bench.py")
	}
	version, err := exec.Command(*python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "picklebench:", err)
		os.Exit(1)
	}
	cs := cases()
	goRes, pyRes := map[string]result{}, map[string]result{}
	for range *rounds {
		goRound(cs, *d, goRes)
		if err := pyRound(*python, script, *d, pyRes); err != nil {
			fmt.Fprintln(os.Stderr, "picklebench:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("pickle protocol 4: Go %s (GOMAXPROCS=%d) vs CPython %s C pickle; best of %d alternating rounds\n",
		runtime.Version(), runtime.GOMAXPROCS(0), strings.TrimSpace(string(version)), *rounds)
	fmt.Printf("%-10s %-12s %12s %12s %7s %12s %7s   %12s %12s %7s\n", "case", "op", "Go cpu ns", "Py cpu ns", "Go/Py", "of it Go GC", "-GC/Py", "Go wall ns", "Py wall ns", "Go/Py")
	for _, c := range cs {
		for _, op := range []string{"decode", "decode-owned", "encode"} {
			k := c.name + "/" + op
			g, p := goRes[k], pyRes[k]
			if op == "decode-owned" { // against the same Python decode
				p = pyRes[c.name+"/decode"]
			}
			fmt.Printf("%-10s %-12s %12.0f %12.0f %7.2f %12.0f %7.2f   %12.0f %12.0f %7.2f\n", c.name, op, g.cpu, p.cpu, g.cpu/p.cpu, g.gc, (g.cpu-g.gc)/p.cpu, g.wall, p.wall, g.wall/p.wall)
		}
	}
}
