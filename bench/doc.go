// Package bench holds mpgo's benchmarks: `go test -bench` benchmarks of the
// server request path (in-process server and client), and the side-by-side
// harness in bench/cmd/mgrbench, which drives CPython's SyncManager server,
// `mpgo serve` and a plain frame echo server with the same load and prints
// ops/s, p50 and p99 for each:
//
//	go run ./bench/cmd/mgrbench            # full run (several minutes)
//	go run ./bench/cmd/mgrbench -quick     # short smoke run
//
// The Python helpers the harness runs (cpython_server.py, py_client.py) are
// embedded as [Scripts] so the harness works from any directory. The harness
// reports; it never fails a build on timing.
package bench

import "embed"

// Scripts holds cpython_server.py (CPython's SyncManager server, printing
// its address) and py_client.py (real proxies: timed put/get and
// connect-time modes).
//
//go:embed cpython_server.py py_client.py
var Scripts embed.FS
