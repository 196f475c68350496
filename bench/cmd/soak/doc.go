// Command soak runs `mpgo serve` for a long time under a mixed load of real
// CPython clients (every interpreter found, or -pythons) and Go clients
// (managers.Dial, in this process) on queues, dicts and locks, while faults
// are injected, and then checks that nothing was lost, duplicated or leaked:
//
//	go run ./bench/cmd/soak -duration 30m
//	go run ./bench/cmd/soak -duration 1m -warmup 10s -pythons 2.7,3.13 -json soak.json
//
// The load. The server registers two queue typeids (--queue soakq, --queue
// soakvq); the harness's own client creates a Queue, a dict (with a counter),
// a Lock, one Lock per victim slot and a dict holding a large value, and
// keeps them for the whole run. Clients are:
//
//   - stable Python clients (-stable-per-python per interpreter) and stable
//     Go clients (-go-clients), never killed: put unique items "id:seq" on
//     soakq and the Queue, get from both, set dict items, and increment the
//     dict's counter inside critical sections under the shared Lock;
//   - a Go feeder that keeps a few items in soakvq;
//   - -victims Python clients (interpreters in turn), one killed with
//     SIGKILL every -kill-every and replaced: they put on soakq and the Queue,
//     get from soakvq, hold their slot's Lock for a moment, and set dict items.
//
// Every client logs each operation as it completes (Python: one flushed
// stdout line per operation, see soak_client.py), which the harness books
// in a ledger.
//
// The faults, all to 127.0.0.1 and bounded in number at a time: victims
// killed (above); junk connections from other loopback source addresses
// (-junk-every: random bytes, idle sockets, a wrong key, half a handshake),
// which the server must close; malformed frames after authentication
// (-malformed-every: random bytes, a valid pickle of the wrong shape, a
// truncated pickle, which must be answered or closed; oversized and negative
// frame headers, which must close the connection; frames cut short); slow
// readers (-slow-every: requests for a large value whose replies are never
// read, which the server's --write-timeout must cut).
//
// Accounting rules. An item whose put returned (stable PUT, victim ACK,
// feeder) must be got exactly once, by a consumer or by the drain of every
// queue at the end. A victim logs TRY before a put: if it is killed before
// ACK, the item may or may not have reached the queue, so it may be got at
// most once. Only victims get from soakvq: a victim killed between WANT and
// its answer may have been sent an item it never logged, so soakvq may miss
// at most as many items as there were such kills ("in flight at kill"); the
// main queues, consumed only by stable clients, may miss none. No item may
// be got twice and none that was never put. The counter must equal the
// critical sections of the stable clients (mutual exclusion), every Lock
// must be free at the end (the harness frees a slot Lock a killed victim
// held, as CPython's server never does), and every stable client must exit
// cleanly. A request a victim sent just before it was killed may still be
// served after its death: a get whose reply goes nowhere (hence the in-flight
// allowance) or the release of its slot Lock (counted, not an error).
//
// The faults from this process are counted per kind in the report; a junk
// connection the server does not close, a malformed frame it neither answers
// nor closes on, a slow reader it does not cut within -slow-bound, a wrong
// key accepted, a Go client's error or a stable Python client that does not
// exit cleanly each fail the run.
//
// Resources. After a warm-up (-warmup) with the same load and faults, every
// client stops and the queues are drained; once the server's fds and
// goroutines stop changing, the baseline is taken: VmRSS and the fd count
// from /proc/PID, the object count (number_of_objects), and the goroutine
// count, for which mpgo is built with -tags mpgo_pprof and its goroutine
// profile read (-goroutines=false: not measured; /proc's thread count is OS
// threads, not goroutines, and is shown for information only). RSS is
// sampled after two forced collections, and the harness's own client fills
// its pool of idle connections to its size first, so that its connections
// count the same in every sample. After the soak the same sample is
// taken every second until it is back within -tolerance (5%) of the
// baseline or -settle passes.
//
// The server's stderr (--log-format json) is scanned for panics (panic or
// fatal level, a message mentioning a panic, a Go runtime panic or goroutine
// dump), also through a final SIGTERM shutdown. The report gives the
// operations and faults per kind, the item accounting, the resources
// (baseline, final, delta) and PASS or FAIL with the reasons; the exit
// status is 1 on FAIL, 2 if the run could not be done.
package main
