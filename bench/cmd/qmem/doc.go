// Command qmem measures what a queued item costs a manager server: a real CPython client
// puts N small tuples, (i, 'task-%d' % i, 1.5) for i in range(N), into m.Queue() of CPython's
// own SyncManager server and of `mpgo serve`, one server after the other in the same run, and
// qmem reports each server's RSS growth per queued item (VmRSS after the puts minus VmRSS
// before them, divided by N), the mpgo/CPython ratio, and the client's put and get rates
// (one connection, the items taken back and checked).
//
//	go run ./bench/cmd/qmem                       # 200,000 items, CPython 3.13 client and server
//	go run ./bench/cmd/qmem -n 50000 -python 3.12
//	go run ./bench/cmd/qmem -mpgo /tmp/mpgo-old   # another mpgo build (before/after)
//
// It is a measurement, not a test: it reports and never fails on the figures.
package main
