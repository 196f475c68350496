// Command relaybench compares CPython clients of an mpgo server reached directly with the same
// clients reached through mpgo relay (a yamux session over mutual TLS 1.3), over an emulated WAN
// link and on loopback:
//
//	go run ./bench/cmd/relaybench                 # 20 ms round-trip link, 16-connection throughput
//	go run ./bench/cmd/relaybench -delay 5ms -n 3 -duration 2s
//
// Everything runs on loopback: the server (in process, a plain listener and a mux listener),
// the relay (in process), and a latency-injecting TCP proxy (internal/wanproxy) that delays each
// direction by -delay, placed between the Python clients and the server (direct) or between the
// relay and the server (relayed; the clients reach the relay on loopback, as on their own
// machine). It reports:
//
//   - connect: SyncManager.connect() + m.Queue() + one put + one get, in ms, and in round trips
//     of the emulated link (time / (2*delay)), the modes interleaved sample by sample. Direct is
//     measured twice: CPython does not set TCP_NODELAY, so each new connection's request waits
//     for the ACK of its '#WELCOME#', which on a real link comes one round trip later; the proxy
//     either acknowledges at once (direct is then a little faster than on a real link) or leaves
//     it to the kernel's delayed ACK, 40 ms (a little slower, for a 20 ms round trip). The relay
//     is not affected: its link carries Go's writes (TCP_NODELAY) only;
//   - calls: one put + one get on an open proxy;
//   - throughput: puts and gets per second of 16 Python processes (one proxy connection each) on
//     loopback, direct and relayed, in alternating rounds (other load on the machine then hits
//     both), with the median of the rounds' ratios; and the CPU time per op of this process (the
//     server and the relay) and of the Python clients (their own count, over their put/get
//     loops). When the clients, the server and the relay share the machine's CPUs, CPU per op
//     is what sets the ratio, and it moves less with other load than throughput does.
//
// -cpuprofile FILE profiles each throughput round, from the start signal to the last client's
// result, into FILE.direct.N or FILE.relayed.N (go tool pprof merges the files it is given).
//
// It reports; it never fails on timing.
package main
