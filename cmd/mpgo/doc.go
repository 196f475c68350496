// Command mpgo serves, calls and inspects Python multiprocessing managers and connections from Go.
//
// Usage:
//
//	mpgo serve   [flags]             run a SyncManager-compatible server (the quick start);
//	                                 --mux-address also accepts relays over mutual TLS
//	mpgo relay   [flags]             carry local Python clients to a remote mpgo serve over one
//	                                 yamux session over mutual TLS 1.3 (README, "TLS relay")
//	mpgo echo    [flags]             run a multiprocessing.connection echo peer for tests
//	mpgo call    [flags] TYPEID METHOD [ARG...]
//	                                 create an object on a running manager and call one method
//	mpgo inspect [flags]             list a manager's shared objects and queue depths (a table)
//	mpgo pickle  dis|json|recode [FILE]
//	                                 disassemble, show or re-encode a Python pickle
//
// mpgo serve --store DIR (an embedded NATS JetStream) or --nats URL[,URL...] (an existing
// deployment) makes the queues named by --queue and --shared Queue/JoinableQueue durable and
// shareable between servers (package managers/natsqueue; docs/durable.md).
//
// mpgo serve --http HOST:PORT also serves Prometheus metrics (/metrics), a status page (/) and
// a health check (/healthz) on an HTTP listener of their own (package managers/monitor).
//
// Run "mpgo COMMAND -h" for the flags of a command.
package main
