// Package loadgen is the load generator of the mpgo benchmarks: a client that
// speaks the multiprocessing framing, handshake and manager requests by
// itself (hand-built protocol-4 pickles, precomputed per connection), so it
// can drive CPython's manager server, mpgo and a plain echo server the same
// way. It is internal to bench/.
package loadgen
