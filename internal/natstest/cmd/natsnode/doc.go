// Command natsnode runs one embedded NATS JetStream server (nats-server/v2 as a library) as a
// process of its own, for the tests that kill -9 a node of a cluster or stop every node of a
// deployment (compat_tests/durable_test.go) and for bench/cmd/durablebench's 3-node cluster. It
// is test support: no configuration file, loopback addresses given on the command line, file
// storage under -dir.
//
//	natsnode -dir /tmp/solo -listen 127.0.0.1:0
//	natsnode -dir /tmp/n1 -name n1 -listen 127.0.0.1:0 -cluster 127.0.0.1:P1 -routes nats://127.0.0.1:P1,nats://127.0.0.1:P2,nats://127.0.0.1:P3
//
// Port 0 picks a free port. A clustered JetStream refuses to start without routes, so the route
// ports of a cluster are chosen first and every node gets the whole list (its own route is
// ignored). Once it accepts clients it prints "CLIENT nats://HOST:PORT" to stdout and, with
// -cluster, "CLUSTER nats://HOST:PORT"; then it runs until SIGINT or SIGTERM. -log writes the
// server's log to stderr.
package main
