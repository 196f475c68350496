// Command mgrbench runs CPython's SyncManager server, `mpgo serve` and a
// plain frame echo server side by side under the same load and prints a
// table of ops/s, p50 and p99 per server and concurrency, with the ratios
// mpgo/CPython and mpgo/echo.
//
// Run it from the repository root:
//
//	go run ./bench/cmd/mgrbench                  # full run, median of 3
//	go run ./bench/cmd/mgrbench -quick           # short smoke run
//	go run ./bench/cmd/mgrbench -pprof 127.0.0.1:6060 -sections go -servers mpgo
//	go run ./bench/cmd/mgrbench -sections go -servers mpgo -conns 16 -mpgo-args "--http 127.0.0.1:9116"
//
// Sections (-sections): go (the Go load generator: Queue put/get and dict
// set/get round trips at each -conns), py (CPython 3.13 client processes with
// real proxies), connect (Python SyncManager.connect() + m.Queue() time, and
// the transport floor: the same connections and round trips against the echo
// server), idle (-idle connections held open against mpgo: server memory per
// connection and whether it still answers).
//
// During the go section the load generator and the servers run on separate
// CPUs (-pin auto: the lower and upper half of the CPUs; -pin off; or lists
// such as -pin 0/1), so that they do not time-slice against each other; the
// Go servers get GOMAXPROCS to match.
//
// It only reports; it never fails on timing. Every server it starts is
// killed at exit. All traffic is on 127.0.0.1.
package main
