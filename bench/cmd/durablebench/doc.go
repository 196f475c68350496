// Command durablebench measures the durable queues of `mpgo serve` (issue 14) beside CPython's
// in-memory SyncManager server, with the same Go load generator as mgrbench: Queue put/get
// round trips (one request and reply each) at several connection counts, then the memory per
// queued small tuple (RSS growth of all the server's processes for -items queued tuples).
//
// Configurations (-servers): cpython3.13 (CPython's SyncManager server, m.Queue() in memory),
// mpgo (`mpgo serve --queue jobs`, in memory), store (`--store DIR`: embedded JetStream,
// file storage, JetStream's default sync), fsync (`--store DIR --fsync always`) and cluster
// (`--nats` to three natsnode processes on loopback, `--replicas 3`).
//
// Run it from the repository root:
//
//	go run ./bench/cmd/durablebench                 # median of 3 runs, 1/16/64 connections
//	go run ./bench/cmd/durablebench -quick          # smoke run
//	go run ./bench/cmd/durablebench -servers cpython3.13,store -conns 16
//
// It only reports; it never fails on timing. Every process it starts is stopped at exit; all
// traffic is on 127.0.0.1.
package main
