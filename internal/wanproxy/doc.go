// Package wanproxy is a TCP proxy for tests and benchmarks that emulates a
// wide-area link on loopback: every byte is delivered a fixed delay after it
// was read, in each direction, without limiting throughput (reads go on
// while earlier bytes wait). How it acknowledges what it reads is a choice
// (Config.KernelACKs). Its connections can be cut at once (Kill), as a
// failing link would.
package wanproxy
