// Command picklebench compares mpgo's pickle codec with CPython's C pickle on
// the cases of pickle/bench_test.go (a manager request, a 1 MiB bytes payload
// and a list of 10,000 small dicts; protocol 4), in one run.
//
// It measures both sides in alternating rounds and keeps each side's best
// round, in CPU time (user+system of the whole process, so Go's garbage
// collector and CPython's deallocation both count) and in wall time. On a
// shared, loaded machine the CPU columns are the ones to trust. The "of it
// Go GC" column is the garbage collector's CPU (runtime/metrics estimate,
// updated per GC cycle) within Go's CPU time, and "-GC/Py" the ratio without
// it: Go frees garbage in GC cycles whose cost grows with the live heap (here
// the benchmark's own data), CPython frees each object by reference count
// inside the measured call. The "decode-owned" rows time
// pickle.UnmarshalOwned, which lets bytes values share the input (as the
// server does with a large frame read for that one request), against the
// same CPython decode.
//
// Usage:
//
//	go run ./bench/cmd/picklebench [-python PATH] [-rounds N] [-time D]
//
// The Python side is bench/pickle_bench.py run with --cpu.
package main
