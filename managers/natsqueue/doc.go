// Package natsqueue is a queue.Queue / JoinableQueue whose items live in a NATS JetStream
// stream, so that they survive a crash of the mpgo server and can be shared by several servers.
//
// A [Queue] has the Go API of managers.Queue (Put, Get, ... with a context) and serves the same
// Python API through CallMethod (put, get with block/timeout, put_nowait, get_nowait, qsize,
// empty, full, task_done, join, shutdown), so managers.Singleton(q) registers it under a
// typeid. [Open] binds a Queue to a JetStream context; [StartEmbedded] runs an in-process
// JetStream server (`mpgo serve --store DIR`) and [Connect] reaches an existing deployment
// (`mpgo serve --nats URL`). Packages managers and pickle do not import NATS; this package
// imports them.
//
// # Layout in JetStream
//
// Queue NAME is the stream MPGO_Q_NAME (NAME with every byte other than letters, digits, '-'
// and '_' written =XX) on subject mpgo.q.NAME: work-queue retention, file storage,
// Config.Replicas replicas, MaxMsgs = maxsize (-1 when unbounded) with DiscardNew. One durable
// pull consumer, "mpgo", is shared by every server: explicit ack, AckWait = Config.Redeliver
// (10 s by default), MaxDeliver unlimited (a work-queue item that reached MaxDeliver would stay
// in the stream forever), MaxAckPending unlimited. Each message is one item: a complete pickle
// (see codec.go). The task_done counts live in the key-value bucket MPGO_QUEUE_TASKS.
//
// # Semantics
//
// put: the item is published and the call returns once JetStream acknowledged it (PubAck): a
// returned put is in the stream on a majority of its replicas and survives kill -9 of mpgo (and
// of one node of a 3-replica cluster). Whether it survives a power loss depends on the
// server's sync policy: JetStream syncs to disk every 2 minutes by default;
// EmbeddedConfig.SyncAlways (`--fsync always`) syncs every write. A put that failed
// (exception) may still have been stored if the failure came after the publish reached
// JetStream (a lost PubAck): a duplicate, never a loss.
//
// maxsize: JetStream has no blocking publish. The stream refuses a message beyond MaxMsgs
// (DiscardNew): put_nowait raises queue.Full at once; a blocking put retries, woken when this
// server removes an item and otherwise polling with a pause growing from 1 ms to 100 ms, and
// raises queue.Full at its timeout. The limit counts every message in the stream, so items
// delivered to a getter but not yet acknowledged (the reply being written, or held by a dead
// server until the redelivery delay) count against maxsize. Open refuses an existing stream
// whose MaxMsgs differs from maxsize, naming both: changing MaxMsgs could silently drop items.
//
// get: one pull loop per Queue (per server) keeps pull requests in flight for as many items as
// there are local blocked getters (at most 8 requests of at most 256 items; JetStream allows
// 512 waiting pulls per consumer) and hands each item to the oldest waiter. Before waiting
// there, get_nowait and get(timeout) try a no-wait fetch, so they find an item that is
// available in the stream at once; a get without timeout tries a fetch of one item waiting at
// most 50 ms, which JetStream answers as soon as it holds an item no getter holds. A getter that gives up (timeout, its client gone) loses nothing: an item
// fetched for it goes to the next waiter, or back to JetStream at once (Nak) when nobody waits.
// Each item goes to exactly one getter at a time. It is acknowledged (removed for good) when:
//   - Python caller: the reply has been written to the socket (managers.OnReplyWritten); if the
//     reply cannot be written the item is handed back at once (Nak), not after the delay;
//   - Go caller: as Get returns.
//
// The acknowledgement is confirmed by JetStream in the background; this server's counts wait
// for it. (A no-wait fetch consults the consumer's count of pending messages, which JetStream
// updates asynchronously after a put; when it finds nothing although the stream holds items no
// getter holds, a fetch waiting at most 50 ms takes one, so a get_nowait right after a put
// finds the item.)
//
// If the server dies between fetching an item and writing the reply, JetStream redelivers the
// item after Config.Redeliver: delivery is at-least-once, and a duplicate can only come from
// that window (or from an acknowledgement whose confirmation was lost with a node: logged).
// Order is FIFO except for items handed back or redelivered, which JetStream hands out first.
//
// qsize/empty/full count the messages in the stream: items put and not yet acknowledged,
// which includes items being handed to a getter on any server right now and items held by a
// server that died until the redelivery delay. Before reading the count a server waits
// (bounded) for its own acknowledgements in flight, so a client that got an item and then asks
// the same server sees it gone. All servers read the same stream state, so they agree once the
// acknowledgements have landed: right after a get through server B (which acknowledges once
// its reply is written), server A can still count the item for a moment.
//
// task_done/join: unfinished = items ever put through any server (the stream's last sequence
// number) - task_done calls on any server (a count in MPGO_QUEUE_TASKS changed by
// compare-and-set). join returns when it reaches 0; task_done beyond it raises
// ValueError('task_done() called too many times'). Both are durable: after a restart, join
// still waits for the items put before it. A deleted and recreated stream starts again at 0.
//
// shutdown (Python 3.13) shuts down this server's Queue only: its puts raise queue.ShutDown,
// and its gets do once no item is available. shutdown(immediate=True) also purges the stream
// and counts every item as done, for every server.
//
// # Faults
//
// While NATS cannot be reached, every call raises builtins.ConnectionError naming the cause
// (a blocked get too); other objects of the manager server are unaffected, and the Queue works
// again as soon as the connection is back ([Connect] reconnects forever, every 250 ms, and
// disables the reconnect buffer so that a failed put is not published later behind the
// caller's back). A call that finds the stream or its consumer missing (deleted by an operator)
// raises builtins.OSError naming the stream; the next call recreates them, empty: what the
// deletion removed is gone, which the exception reports. When JetStream does not answer for a
// stream that still exists (a cluster electing a new stream or consumer leader) the call raises
// ConnectionError; such transient failures of a pull request on a live connection (a cluster
// node stopping, a new consumer leader) are retried without failing the waiting getters.
// Nothing acknowledged is lost in any of these cases.
package natsqueue
