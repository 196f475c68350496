// Command reclaimbench measures Server.ReclaimAfter: real CPython client processes (forked by
// clients.py) connect to a Go manager server hosted in this process, each creates proxies and
// calls a method on each, and then every client process is killed with SIGKILL. It reports the
// object count and the server's RSS before, with the clients, and after, and how long the
// objects took to be released.
//
//	go run ./bench/cmd/reclaimbench                        # 1,000 clients x 10 proxies, 5s
//	go run ./bench/cmd/reclaimbench -clients 100 -reclaim-after 500ms
//	go run ./bench/cmd/reclaimbench -reclaim-after 0       # the baseline: what stays
//
// It is a measurement, not a test: it reports and never fails on timing.
package main
