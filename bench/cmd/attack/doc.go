// Command attack measures how a manager server holds up against the hostile
// peers of issue 13, side by side with CPython's own server in the same run:
//
//   - siege: N idle sockets that connect and never answer the challenge,
//     and M slowloris sockets that dribble a byte of their response every
//     500 ms, all re-opened as soon as the server closes them (an attacker
//     keeps them held), spread over S source addresses of 127.0.0.0/8. While
//     they are held, a real CPython client times connect (SyncManager
//     .connect()) + m.Queue() + put + get, T times, each on new connections.
//   - wrong keys: K handshakes with a wrong key (C at a time); counts the
//     accepted ones (must be 0), the server's RSS growth and the log lines
//     it wrote.
//
// Usage (from the repository; it builds ./cmd/mpgo unless -mpgo is given):
//
//	go run ./bench/cmd/attack [-idle 10000] [-slow 1000] [-tries 100] [-wrong 10000]
//	    [-servers mpgo,cpython] [-python 3.13] [-mpgo /path/to/mpgo] [-json FILE]
//
// All traffic goes to loopback addresses; every loop is bounded by count and
// by -timeout. It is a benchmark: it reports, it asserts nothing, except
// that it exits non-zero if a phase could not run at all.
package main
