package natsqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sirupsen/logrus"
)

// Config configures a [Queue].
type Config struct {
	// Name is the queue name; the stream, subject and consumer names derive from it.
	Name string
	// Maxsize bounds the queue (0: unbounded). Opening an existing stream whose limit differs
	// is refused: lowering a stream's MaxMsgs silently drops items.
	Maxsize int
	// Replicas is the stream's replica count (0: 1).
	Replicas int
	// Redeliver is how long an item fetched by a server that died before replying stays
	// invisible before JetStream hands it out again (the consumer's AckWait; 0: 10s).
	Redeliver time.Duration
	// Logger receives the queue's logs; nil is silent.
	Logger logrus.FieldLogger
}

// Tunables.
const (
	// DefaultRedeliver is Config.Redeliver's default.
	DefaultRedeliver = 10 * time.Second
	// pullWait is how long one pull request waits at the server for items.
	pullWait = 5 * time.Second
	// maxFetches bounds the pull requests one Queue has waiting at the server (JetStream
	// allows 512 per consumer, shared by every server).
	maxFetches = 8
	// maxBatch bounds the items one pull request asks for.
	maxBatch = 256
	// opTimeout bounds one JetStream request when the caller's context has no deadline.
	opTimeout = 5 * time.Second
	// ackWait bounds how long Qsize waits for this server's acknowledgements in flight.
	ackWait = 5 * time.Second
	// ackTimeout bounds the wait for JetStream's confirmation of one acknowledgement.
	ackTimeout = 2 * time.Second
	// maxRoomPoll is the longest pause between two attempts of a blocked put.
	maxRoomPoll = 100 * time.Millisecond
	// retryPause is the pause of the pull loop after a failed pull request.
	retryPause = 100 * time.Millisecond
	// consumerName is the durable consumer every server shares.
	consumerName = "mpgo"
	// tasksBucket is the key-value bucket holding each queue's task_done count.
	tasksBucket = "MPGO_QUEUE_TASKS"
)

// Queue is a queue.Queue / JoinableQueue whose items live in a JetStream stream. It is safe
// for concurrent use. Create it with [Open]; Close it when done (items stay in the stream).
type Queue struct {
	js      jetstream.JetStream
	cfg     Config
	log     logrus.FieldLogger
	stream  string // stream name
	subject string // subject items are published on
	key     string // key of the task_done count in tasksBucket
	next    string // JetStream API subject of a pull request for the consumer

	inboxMu       sync.Mutex
	inboxes       []*inbox // idle inboxes of pullOne
	inboxesClosed bool

	setupMu sync.Mutex
	h       *handles // nil after the stream was found missing: the next call sets it up again

	mu        sync.Mutex
	waiters   []*waiter // blocked getters, oldest first
	requested int       // items asked for by pull requests in flight
	fetches   int       // pull requests in flight
	closed    bool
	shutdown  bool
	acking    int           // acknowledgements in flight
	acked     chan struct{} // closed when acking drops to 0; nil while no one waits
	room      chan struct{} // closed when this server removed an item; nil while no one waits

	kick   chan struct{} // wakes the pull loop (capacity 1)
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// handles are the JetStream objects of a set-up queue.
type handles struct {
	stream  jetstream.Stream
	cons    jetstream.Consumer
	kv      jetstream.KeyValue
	created time.Time // the stream's creation time: identifies this incarnation of it
}

// waiter is one blocked getter. The pull loop hands it one item through ch (capacity 1) after
// removing it from q.waiters, with q.mu held.
type waiter struct {
	ch  chan item
	err error // set instead of an item when the pull failed
}

// item is a fetched message and its decoded value.
type item struct {
	msg delivered
	p   pickle.Pickled
}

// delivered is a message JetStream delivered to this server: a jetstream.Msg from the pull
// loop, or a rawMsg from a pull for one item (fetchOnce).
type delivered interface {
	DoubleAck(ctx context.Context) error
	Nak() error
	TermWithReason(reason string) error
}

// Open creates (or binds to) the stream and consumer of the queue cfg.Name and starts its
// pull loop. ctx bounds the setup only. An existing stream whose MaxMsgs differs from
// cfg.Maxsize is refused.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Queue, error) {
	if cfg.Name == "" {
		return nil, errors.New("natsqueue: the queue needs a name")
	}
	if cfg.Maxsize < 0 {
		cfg.Maxsize = 0
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Redeliver <= 0 {
		cfg.Redeliver = DefaultRedeliver
	}
	log := cfg.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(discard{})
		log = l
	}
	esc := escapeName(cfg.Name)
	q := &Queue{
		js:      js,
		cfg:     cfg,
		log:     log.WithField("queue", cfg.Name),
		stream:  "MPGO_Q_" + esc,
		subject: "mpgo.q." + esc,
		key:     esc,
		next:    apiPrefix(js.Options()) + "CONSUMER.MSG.NEXT." + "MPGO_Q_" + esc + "." + consumerName,
		kick:    make(chan struct{}, 1),
	}
	if _, err := q.setup(ctx); err != nil {
		return nil, err
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	q.wg.Add(1)
	go q.pullLoop()
	return q, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// escapeName maps a queue name to a token valid in stream names, subjects and keys: letters,
// digits, '-' and '_' stay, every other byte becomes =XX (hex), so distinct names stay distinct.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// apiPrefix returns the prefix of the JetStream API subjects js sends requests to.
func apiPrefix(o jetstream.JetStreamOptions) string {
	switch {
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	case o.APIPrefix != "":
		return strings.TrimSuffix(o.APIPrefix, ".") + "."
	}
	return jetstream.DefaultAPIPrefix
}

// opCtx bounds a JetStream request made for a caller whose ctx may have no deadline.
func opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, opTimeout)
}

// setup returns the queue's JetStream handles, creating the stream, consumer and task bucket
// when missing.
func (q *Queue) setup(ctx context.Context) (*handles, error) {
	q.setupMu.Lock()
	defer q.setupMu.Unlock()
	if q.h != nil {
		return q.h, nil
	}
	ctx, cancel := opCtx(ctx)
	defer cancel()
	maxMsgs := int64(-1)
	if q.cfg.Maxsize > 0 {
		maxMsgs = int64(q.cfg.Maxsize)
	}
	scfg := jetstream.StreamConfig{
		Name:        q.stream,
		Description: "mpgo queue " + q.cfg.Name,
		Subjects:    []string{q.subject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    q.cfg.Replicas,
		MaxMsgs:     maxMsgs,
		Discard:     jetstream.DiscardNew,
	}
	st, err := q.js.Stream(ctx, q.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = q.js.CreateStream(ctx, scfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another server was first
			st, err = q.js.Stream(ctx, q.stream)
		}
		if err == nil {
			q.log.WithField("stream", q.stream).Info("natsqueue: created stream")
		}
	}
	if err != nil {
		return nil, q.fault("open", err)
	}
	info := st.CachedInfo()
	have := info.Config.MaxMsgs
	if have <= 0 {
		have = -1
	}
	if have != maxMsgs {
		haveS, wantS := fmt.Sprint(have), fmt.Sprint(q.cfg.Maxsize)
		if have < 0 {
			haveS = "unbounded (MaxMsgs -1)"
		}
		if q.cfg.Maxsize == 0 {
			wantS = "0 (unbounded)"
		}
		return nil, fmt.Errorf("natsqueue: queue %q: stream %s holds at most %s items (MaxMsgs) but maxsize %s was asked: "+
			"changing MaxMsgs could silently drop items; open it with maxsize %d or delete the stream",
			q.cfg.Name, q.stream, haveS, wantS, max(have, 0))
	}
	if info.Config.Replicas != q.cfg.Replicas {
		q.log.WithFields(logrus.Fields{"stream": q.stream, "replicas": info.Config.Replicas, "asked": q.cfg.Replicas}).
			Warn("natsqueue: the existing stream keeps its replica count")
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       consumerName,
		Description:   "mpgo getters",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.Redeliver,
		MaxDeliver:    -1,
		MaxWaiting:    512,
		MaxAckPending: -1,
		Replicas:      0, // the stream's
	})
	if err != nil {
		return nil, q.fault("open", err)
	}
	kv, err := q.js.KeyValue(ctx, tasksBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = q.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      tasksBucket,
			Description: "mpgo queues: task_done counts",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    q.cfg.Replicas,
		})
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			kv, err = q.js.KeyValue(ctx, tasksBucket)
		}
	}
	if err != nil {
		return nil, q.fault("open", err)
	}
	q.h = &handles{stream: st, cons: cons, kv: kv, created: info.Created}
	return q.h, nil
}

// lost forgets the handles after the stream or consumer was found missing.
func (q *Queue) lost(h *handles) {
	q.setupMu.Lock()
	if q.h == h {
		q.h = nil
	}
	q.setupMu.Unlock()
}

// fault converts a JetStream failure of op into the Python exception the caller receives:
// builtins.ConnectionError when NATS cannot be reached, builtins.OSError when the stream or
// its consumer is missing (the next call sets them up again) or for other failures.
func (q *Queue) fault(op string, err error) error {
	var pe *managers.PyException
	if errors.As(err, &pe) || errors.Is(err, context.Canceled) {
		return err
	}
	nc := q.js.Conn()
	if !nc.IsConnected() {
		// The error itself is the client's view of it (for example "outbound buffer limit
		// exceeded": the reconnect buffer is off), the connection status says more.
		return managers.NewPyException("builtins", "ConnectionError", fmt.Sprintf(
			"natsqueue: queue %q: %s: NATS JetStream unreachable: disconnected from NATS (%s)",
			q.cfg.Name, op, strings.ToLower(nc.Status().String())))
	}
	if missing(err) && !q.gone() {
		return managers.NewPyException("builtins", "ConnectionError", fmt.Sprintf(
			"natsqueue: queue %q: %s: JetStream did not answer for stream %s (a leader being elected?): %v",
			q.cfg.Name, op, q.stream, err))
	}
	if missing(err) {
		q.lost(q.currentHandles())
		q.log.WithField("err", err).Warn("natsqueue: stream or consumer missing; the next call sets it up again")
		return managers.NewPyException("builtins", "OSError", fmt.Sprintf(
			"natsqueue: queue %q: %s: JetStream stream %s or its consumer is missing (deleted?): %v; the next call recreates it (empty if it was deleted)",
			q.cfg.Name, op, q.stream, err))
	}
	if transient(err) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		return managers.NewPyException("builtins", "ConnectionError", fmt.Sprintf(
			"natsqueue: queue %q: %s: NATS JetStream unreachable: %v", q.cfg.Name, op, err))
	}
	return managers.NewPyException("builtins", "OSError", fmt.Sprintf("natsqueue: queue %q: %s: %v", q.cfg.Name, op, err))
}

// gone asks JetStream whether the stream or its consumer is really missing, to tell an
// operator's deletion from a moment without a leader (no responders) in a cluster.
func (q *Queue) gone() bool {
	ctx, cancel := context.WithTimeout(context.Background(), goneTimeout)
	defer cancel()
	st, err := q.js.Stream(ctx, q.stream)
	if err != nil {
		return errors.Is(err, jetstream.ErrStreamNotFound)
	}
	_, err = st.Consumer(ctx, consumerName)
	return errors.Is(err, jetstream.ErrConsumerNotFound)
}

// goneTimeout bounds the check of gone.
const goneTimeout = 2 * time.Second

// missing reports whether err says the stream or consumer does not exist (no responders on a
// live connection: nobody serves the consumer's subjects).
func missing(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrConsumerDeleted) ||
		errors.Is(err, jetstream.ErrConsumerDoesNotExist) || errors.Is(err, nats.ErrNoResponders)
}

// transient reports whether err is a failure a retry may not see (a server or leader going
// away, a timeout).
func transient(err error) bool {
	return errors.Is(err, jetstream.ErrServerShutdown) || errors.Is(err, jetstream.ErrConsumerLeadershipChanged) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrReconnectBufExceeded) ||
		errors.Is(err, jetstream.ErrNoHeartbeat)
}

func (q *Queue) currentHandles() *handles {
	q.setupMu.Lock()
	defer q.setupMu.Unlock()
	return q.h
}

// errClosed is returned by calls on a closed Queue.
func (q *Queue) errClosed() error {
	return managers.NewPyException("builtins", "OSError", fmt.Sprintf("natsqueue: queue %q is closed", q.cfg.Name))
}

// Close stops the pull loop and fails the calls waiting in it; the items stay in the stream.
// An item a pull request was fetching at that moment comes back after Config.Redeliver.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	ws := q.waiters
	q.waiters = nil
	for _, w := range ws {
		w.err = q.errClosed()
		close(w.ch)
	}
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
	q.closeInboxes()
	q.waitAcks(context.Background())
	return nil
}

// Put adds v, waiting while the queue is full until ctx ends.
func (q *Queue) Put(ctx context.Context, v any) error { return q.put(ctx, v, true, time.Time{}) }

// PutNowait adds v if there is room at once, else returns managers.ErrQueueFull.
func (q *Queue) PutNowait(v any) error { return q.put(context.Background(), v, false, time.Time{}) }

// PutTimeout is Python's put(v, timeout=d): it returns managers.ErrQueueFull after waiting d.
func (q *Queue) PutTimeout(ctx context.Context, v any, d time.Duration) error {
	return q.put(ctx, v, true, time.Now().Add(max(d, 0)+1))
}

// isFull reports whether a publish failed because the stream holds MaxMsgs items.
func isFull(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && strings.Contains(ae.Description, "maximum messages")
}

func (q *Queue) put(ctx context.Context, v any, block bool, deadline time.Time) error {
	if q.isShutdown() {
		return managers.ErrQueueShutDown
	}
	data, err := encodeItem(ctx, v)
	if err != nil {
		return managers.NewPyException("builtins", "TypeError", "natsqueue: cannot store the item: "+err.Error())
	}
	msg := &nats.Msg{Subject: q.subject, Data: data}
	pause := time.Millisecond
	for {
		if _, err := q.setup(ctx); err != nil {
			return err
		}
		pctx, cancel := opCtx(ctx)
		_, err := q.js.PublishMsg(pctx, msg)
		cancel()
		if err == nil {
			return nil
		}
		if !isFull(err) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return q.fault("put", err)
		}
		if !block {
			return managers.ErrQueueFull
		}
		// JetStream has no blocking publish: wait for this server to remove an item, or poll
		// (another server may have, or this one just did), with a growing pause.
		room := q.roomChan()
		wait := pause
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return managers.ErrQueueFull
			}
			wait = min(wait, left)
		}
		t := time.NewTimer(wait)
		select {
		case <-room:
			pause = time.Millisecond
		case <-t.C:
			pause = min(2*pause, maxRoomPoll)
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
		if q.isShutdown() {
			return managers.ErrQueueShutDown
		}
	}
}

func (q *Queue) isShutdown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shutdown
}

// roomChan returns a channel closed when this server next removes an item.
func (q *Queue) roomChan() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.room == nil {
		q.room = make(chan struct{})
	}
	return q.room
}

// Get removes and returns the oldest item, waiting until there is one or ctx ends.
func (q *Queue) Get(ctx context.Context) (any, error) { return q.get(ctx, true, time.Time{}) }

// GetNowait returns an item if the stream holds one, else managers.ErrQueueEmpty.
func (q *Queue) GetNowait() (any, error) { return q.get(context.Background(), false, time.Time{}) }

// GetTimeout is Python's get(timeout=d): it returns managers.ErrQueueEmpty after waiting d.
func (q *Queue) GetTimeout(ctx context.Context, d time.Duration) (any, error) {
	return q.get(ctx, true, time.Now().Add(max(d, 0)+1))
}

func (q *Queue) get(ctx context.Context, block bool, deadline time.Time) (any, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, q.errClosed()
	}
	q.mu.Unlock()
	// A get that may give up (get_nowait, a timeout) starts with a no-wait fetch: an item in
	// the stream is found at once, and a get_nowait answers from JetStream's state, not from
	// this server's. A get that waits as long as it takes starts with a pull for one item
	// waiting at most catchUpWait, which JetStream answers from its store as soon as it holds
	// an item no getter holds: one request even right after a put, when a no-wait pull can
	// come back empty (see fetchNow). Only then does it wait for the pull loop.
	var it item
	var ok bool
	var err error
	if block && deadline.IsZero() && !q.isShutdown() {
		it, ok, err = q.fetchOnce(ctx, true)
	} else {
		it, ok, err = q.fetchNow(ctx)
	}
	if err != nil {
		return nil, err
	}
	if ok {
		if ctx.Err() != nil { // the caller left meanwhile: the item goes on at once
			q.handOn(it)
			return nil, ctx.Err()
		}
		return q.deliver(ctx, it)
	}
	if !block || q.isShutdown() {
		if q.isShutdown() {
			return nil, managers.ErrQueueShutDown
		}
		return nil, managers.ErrQueueEmpty
	}
	w := &waiter{ch: make(chan item, 1)}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, q.errClosed()
	}
	q.waiters = append(q.waiters, w)
	q.mu.Unlock()
	q.wake()
	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	select {
	case it, ok := <-w.ch:
		if !ok {
			return nil, w.err
		}
		return q.deliver(ctx, it)
	case <-timer:
	case <-ctx.Done():
	}
	// Giving up: if the pull loop already chose this waiter, its item is in w.ch.
	q.mu.Lock()
	i := slices.Index(q.waiters, w)
	if i >= 0 {
		q.waiters = slices.Delete(q.waiters, i, i+1)
	}
	q.mu.Unlock()
	if i < 0 {
		it, ok := <-w.ch
		if !ok {
			return nil, w.err
		}
		if ctx.Err() == nil {
			return q.deliver(ctx, it)
		}
		q.handOn(it)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.isShutdown() {
		return nil, managers.ErrQueueShutDown
	}
	return nil, managers.ErrQueueEmpty
}

// fetchNow fetches one item if JetStream has one available now. JetStream updates the
// consumer's count of pending messages asynchronously after a put, and a no-wait pull consults
// that count: right after a put it can come back empty. Then the stream's state, which is
// exact, decides: if it holds items no getter holds, a pull that waits (at most
// catchUpWait) takes one, as the consumer reads its store directly for a waiting pull.
func (q *Queue) fetchNow(ctx context.Context) (item, bool, error) {
	it, ok, err := q.fetchOnce(ctx, false)
	if ok || err != nil {
		return it, ok, err
	}
	n, err := q.undelivered(ctx)
	if err != nil || n == 0 {
		return item{}, false, err
	}
	return q.fetchOnce(ctx, true)
}

// catchUpWait bounds the pull of fetchNow after the stream said it held items: they may have
// been taken by other getters meanwhile.
const catchUpWait = 50 * time.Millisecond

// undelivered returns the number of items in the stream that no getter holds.
func (q *Queue) undelivered(ctx context.Context) (uint64, error) {
	h, err := q.setup(ctx)
	if err != nil {
		return 0, err
	}
	ctx, cancel := opCtx(ctx)
	defer cancel()
	si, err := h.stream.Info(ctx)
	if err != nil {
		return 0, q.fault("get", err)
	}
	if si.State.Msgs == 0 {
		return 0, nil
	}
	ci, err := h.cons.Info(ctx)
	if err != nil {
		return 0, q.fault("get", err)
	}
	held := uint64(max(ci.NumAckPending, 0))
	if si.State.Msgs <= held {
		return 0, nil
	}
	return si.State.Msgs - held, nil
}

// fetchOnce sends one pull request for one item: a no-wait one, or one waiting up to
// catchUpWait. A pull request for one item has exactly one answer (the message, or a status
// saying there is none), so it is a plain request answered on an inbox of the Queue's pool
// (pullOne): no subscription per pull (as jetstream's Fetch makes), which would cost a
// subscribe, an unsubscribe and a goroutine per get.
func (q *Queue) fetchOnce(ctx context.Context, wait bool) (item, bool, error) {
	for {
		if _, err := q.setup(ctx); err != nil {
			return item{}, false, err
		}
		req, timeout := pullNoWait, noWaitTimeout
		if wait {
			req, timeout = pullCatchUp, catchUpWait+noWaitTimeout
		}
		msg, err := q.pullOne(req, timeout)
		if err != nil {
			return item{}, false, q.fault("get", err)
		}
		if msg == nil { // no answer in time: as jetstream's FetchNoWait, no message
			return item{}, false, nil
		}
		if err := pullStatus(msg); err != nil {
			if errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, nats.ErrTimeout) {
				return item{}, false, nil
			}
			return item{}, false, q.fault("get", err)
		}
		m := rawMsg{msg, q.js.Conn()}
		p, err := decodeItem(msg.Data)
		if err == nil {
			return item{msg: m, p: p}, true, nil
		}
		q.drop(m, err)
	}
}

// noWaitTimeout bounds the wait for the answer to a no-wait pull request (as jetstream's
// FetchNoWait does): JetStream keeps a no-wait request that came while it counted pending
// messages until it finds the end of the stream, which can take a while.
const noWaitTimeout = time.Second

// pullOne sends the pull request body for one item and returns its answer, nil when none came
// within timeout. The answer comes on an inbox of the Queue's pool, used by one request at a
// time (JetStream delivers a message under its stream subject, so answers cannot be told
// apart on a shared subscription): no subscribe or unsubscribe per get, and messages go
// straight into a channel, with no goroutine. It does not give up before timeout (at most
// catchUpWait+noWaitTimeout), so that an answer is never dropped here while its item is
// delivered to this server (it would come back only after the redelivery delay): the caller
// hands an item it no longer wants on at once.
func (q *Queue) pullOne(body []byte, timeout time.Duration) (*nats.Msg, error) {
	ib, err := q.takeInbox()
	if err != nil {
		return nil, err
	}
	if err := q.js.Conn().PublishRequest(q.next, ib.subj, body); err != nil {
		q.dropInbox(ib)
		return nil, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-ib.ch:
		q.putInbox(ib)
		return m, nil
	case <-t.C:
	}
	return q.dropInbox(ib), nil // an answer may have come meanwhile
}

// inbox is a subscription pullOne's answers arrive on.
type inbox struct {
	subj string
	sub  *nats.Subscription
	ch   chan *nats.Msg
}

// maxInboxes bounds the idle inboxes a Queue keeps (about the number of concurrent gets).
const maxInboxes = 256

// takeInbox returns an idle inbox of the pool or subscribes a new one.
func (q *Queue) takeInbox() (*inbox, error) {
	q.inboxMu.Lock()
	if n := len(q.inboxes); n > 0 {
		ib := q.inboxes[n-1]
		q.inboxes = q.inboxes[:n-1]
		q.inboxMu.Unlock()
		return ib, nil
	}
	q.inboxMu.Unlock()
	nc := q.js.Conn()
	ib := &inbox{subj: nc.NewInbox(), ch: make(chan *nats.Msg, 4)}
	sub, err := nc.ChanSubscribe(ib.subj, ib.ch)
	if err != nil {
		return nil, err
	}
	ib.sub = sub
	return ib, nil
}

// putInbox returns an inbox whose request was answered to the pool. A request for one item
// has exactly one answer, so nothing else arrives on it.
func (q *Queue) putInbox(ib *inbox) {
	q.inboxMu.Lock()
	if !q.inboxesClosed && len(q.inboxes) < maxInboxes {
		q.inboxes = append(q.inboxes, ib)
		q.inboxMu.Unlock()
		return
	}
	q.inboxMu.Unlock()
	_ = ib.sub.Unsubscribe()
}

// dropInbox unsubscribes an inbox whose request may still be answered, and returns the answer
// that came meanwhile, if any.
func (q *Queue) dropInbox(ib *inbox) *nats.Msg {
	_ = ib.sub.Unsubscribe()
	select {
	case m := <-ib.ch:
		return m
	default:
		return nil
	}
}

// closeInboxes unsubscribes the idle inboxes; the ones in use are unsubscribed when returned.
func (q *Queue) closeInboxes() {
	q.inboxMu.Lock()
	ibs := q.inboxes
	q.inboxes = nil
	q.inboxesClosed = true
	q.inboxMu.Unlock()
	for _, ib := range ibs {
		_ = ib.sub.Unsubscribe()
	}
}

// The bodies of fetchOnce's pull requests (JetStream's JSApiConsumerGetNextRequest).
var (
	pullNoWait  = []byte(`{"batch":1,"no_wait":true}`)
	pullCatchUp = []byte(fmt.Sprintf(`{"batch":1,"expires":%d}`, catchUpWait.Nanoseconds()))
)

// pullStatus returns nil when msg is a message of the stream, else the error its status
// header says (as jetstream's pull consumer reads it).
func pullStatus(msg *nats.Msg) error {
	if len(msg.Data) > 0 || len(msg.Header) == 0 {
		return nil
	}
	status := msg.Header.Get("Status")
	if status == "" {
		return nil
	}
	descr := strings.ToLower(msg.Header.Get("Description"))
	switch {
	case status == "404":
		return jetstream.ErrNoMessages
	case status == "408":
		return nats.ErrTimeout
	case status == "503":
		return nats.ErrNoResponders
	case status == "409" && strings.Contains(descr, "exceeded maxwaiting"):
		// Too many pulls waiting at the consumer (every server's): no item for this one;
		// a blocking get waits for the pull loop.
		return jetstream.ErrNoMessages
	case status == "409" && strings.Contains(descr, "consumer deleted"):
		return jetstream.ErrConsumerDeleted
	case status == "409" && strings.Contains(descr, "leadership change"):
		return jetstream.ErrConsumerLeadershipChanged
	case status == "409" && strings.Contains(descr, "server shutdown"):
		return jetstream.ErrServerShutdown
	}
	return fmt.Errorf("nats: pull request: %s %s", status, msg.Header.Get("Description"))
}

// rawMsg is a message fetched by fetchOnce's plain request; its reply subject is the
// acknowledgement subject JetStream gave it.
type rawMsg struct {
	m  *nats.Msg
	nc *nats.Conn
}

func (r rawMsg) Nak() error { return r.nc.Publish(r.m.Reply, []byte("-NAK")) }
func (r rawMsg) TermWithReason(reason string) error {
	return r.nc.Publish(r.m.Reply, []byte("+TERM "+reason))
}

// DoubleAck acknowledges the message and waits for JetStream to confirm it.
func (r rawMsg) DoubleAck(ctx context.Context) error {
	_, err := r.nc.RequestWithContext(ctx, r.m.Reply, []byte("+ACK"))
	return err
}

// drop terminates a message that is not an item (published to the subject by something else):
// redelivering it would fail the same way forever.
func (q *Queue) drop(msg delivered, err error) {
	q.log.WithField("err", err).Error("natsqueue: dropping a message that is not a pickled item")
	if err := msg.TermWithReason("not a pickle"); err != nil {
		q.log.WithField("err", err).Warn("natsqueue: terminating a bad message")
	}
}

// deliver arranges the acknowledgement of an item handed to the caller and returns what the
// caller receives (managers.CallerItem: the pickled item for a Python client, its value for a
// Go caller). A Python caller's item is acknowledged once the reply reached the socket, and
// handed back to JetStream at once (Nak) when it could not be written; a Go caller's is
// acknowledged now. The acknowledgement is confirmed in the background (counts read through
// this Queue wait for it). An item that does not decode for a Go caller is dropped as a bad
// message is.
func (q *Queue) deliver(ctx context.Context, it item) (any, error) {
	v, err := managers.CallerItem(ctx, it.p)
	if err != nil {
		q.drop(it.msg, err)
		return nil, managers.NewPyException("builtins", "ValueError", "natsqueue: a queued item does not decode: "+err.Error())
	}
	q.ackStart()
	if managers.OnReplyWritten(ctx, func(err error) {
		if err != nil {
			q.log.WithField("err", err).Debug("natsqueue: reply not written: the item goes back")
			if err := it.msg.Nak(); err != nil {
				q.log.WithField("err", err).Warn("natsqueue: nak failed: the item comes back after the redelivery delay")
			}
			q.ackEnd()
			return
		}
		go q.ack(it.msg)
	}) {
		return v, nil
	}
	go q.ack(it.msg)
	return v, nil
}

// ack acknowledges a delivered item and waits for JetStream to confirm it. A failed
// confirmation is logged: the item may come back after the redelivery delay (a duplicate).
func (q *Queue) ack(msg delivered) {
	defer q.ackEnd()
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	if err := msg.DoubleAck(ctx); err != nil {
		q.log.WithField("err", err).Warn("natsqueue: acknowledgement not confirmed: the item may be delivered again")
	}
}

func (q *Queue) ackStart() {
	q.mu.Lock()
	q.acking++
	q.mu.Unlock()
}

func (q *Queue) ackEnd() {
	q.mu.Lock()
	q.acking--
	if q.acking == 0 && q.acked != nil {
		close(q.acked)
		q.acked = nil
	}
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
	q.mu.Unlock()
}

// waitAcks waits (bounded) for this server's acknowledgements in flight, so that counts read
// after a get include it.
func (q *Queue) waitAcks(ctx context.Context) {
	q.mu.Lock()
	if q.acking == 0 {
		q.mu.Unlock()
		return
	}
	if q.acked == nil {
		q.acked = make(chan struct{})
	}
	ch := q.acked
	q.mu.Unlock()
	t := time.NewTimer(ackWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}

// wake wakes the pull loop.
func (q *Queue) wake() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// pullLoop keeps pull requests in flight for as many items as there are waiters.
func (q *Queue) pullLoop() {
	defer q.wg.Done()
	pause := time.Duration(0)
	for {
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-q.ctx.Done():
				t.Stop()
				return
			}
		}
		select {
		case <-q.kick:
		case <-q.ctx.Done():
			return
		}
		pause = 0
		for {
			q.mu.Lock()
			n := len(q.waiters) - q.requested
			if q.closed || n <= 0 || q.fetches >= maxFetches {
				q.mu.Unlock()
				break
			}
			n = min(n, maxBatch)
			q.requested += n
			q.fetches++
			q.mu.Unlock()
			err := q.startFetch(n)
			if err != nil {
				q.mu.Lock()
				q.requested -= n
				q.fetches--
				q.mu.Unlock()
				q.fetchFailed(err)
				pause = retryPause
				q.wake() // come back after the pause if waiters came meanwhile
				break
			}
		}
	}
}

// startFetch sends one pull request for n items and hands them out as they arrive.
func (q *Queue) startFetch(n int) error {
	h, err := q.setup(q.ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(q.ctx, pullWait)
	b, err := h.cons.Fetch(n, jetstream.FetchContext(ctx))
	if err != nil {
		cancel()
		return err
	}
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		defer cancel()
		got := 0
		for msg := range b.Messages() {
			got++
			q.mu.Lock()
			q.requested--
			q.mu.Unlock()
			p, err := decodeItem(msg.Data())
			if err != nil {
				q.drop(msg, err)
				continue
			}
			q.handOn(item{msg: msg, p: p})
		}
		q.mu.Lock()
		q.requested -= n - got
		q.fetches--
		q.mu.Unlock()
		if err := b.Error(); err != nil && q.ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) &&
			!errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			q.fetchFailed(err)
			time.AfterFunc(retryPause, q.wake) // do not retry a failing pull in a tight loop
			return
		}
		q.wake()
	}()
	return nil
}

// handOn gives a fetched item to the oldest waiter, or back to JetStream (Nak) when no one
// waits any more, so that it is not held until the redelivery delay.
func (q *Queue) handOn(it item) {
	q.mu.Lock()
	if len(q.waiters) > 0 {
		w := q.waiters[0]
		q.waiters = slices.Delete(q.waiters, 0, 1)
		w.ch <- it
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	if err := it.msg.Nak(); err != nil {
		q.log.WithField("err", err).Warn("natsqueue: nak failed: the item comes back after the redelivery delay")
	}
}

// fetchFailed handles a failed pull request: the waiters fail when NATS is unreachable or the
// stream is missing; after a transient failure on a live connection (a server of the cluster
// going away, a new consumer leader) the pull loop tries again and they keep waiting.
func (q *Queue) fetchFailed(err error) {
	if q.js.Conn().IsConnected() && (transient(err) || missing(err) && !q.gone()) {
		q.log.WithField("err", err).Debug("natsqueue: pull request failed; retrying")
		return
	}
	q.failWaiters(q.fault("get", err))
}

// failWaiters fails every waiter with err (the pull requests cannot be sent).
func (q *Queue) failWaiters(err error) {
	q.mu.Lock()
	ws := q.waiters
	q.waiters = nil
	for _, w := range ws {
		w.err = err
		close(w.ch)
	}
	q.mu.Unlock()
}

// counts returns the stream's state: items held, the last sequence number (items ever put)
// and the stream's creation time.
func (q *Queue) counts(ctx context.Context) (jetstream.StreamState, *handles, error) {
	h, err := q.setup(ctx)
	if err != nil {
		return jetstream.StreamState{}, nil, err
	}
	q.waitAcks(ctx)
	ctx, cancel := opCtx(ctx)
	defer cancel()
	info, err := h.stream.Info(ctx)
	if err != nil {
		return jetstream.StreamState{}, nil, q.fault("qsize", err)
	}
	if !info.Created.Equal(h.created) { // deleted and recreated by someone else
		q.lost(h)
		if h, err = q.setup(ctx); err != nil {
			return jetstream.StreamState{}, nil, err
		}
	}
	return info.State, h, nil
}

// Len is Qsize with the error: the number of items in the stream, that is put and not yet
// acknowledged by a getter (see the package documentation).
func (q *Queue) Len(ctx context.Context) (int, error) {
	st, _, err := q.counts(ctx)
	return int(st.Msgs), err
}

// Qsize returns the number of items in the stream (see [Queue.Len]); 0 when JetStream cannot
// be reached (Len returns the error).
func (q *Queue) Qsize() int {
	n, err := q.Len(context.Background())
	if err != nil {
		q.log.WithField("err", err).Warn("natsqueue: qsize")
	}
	return n
}

// Empty reports whether Qsize is 0.
func (q *Queue) Empty() bool { return q.Qsize() == 0 }

// Full reports whether Qsize has reached Maxsize (never for an unbounded queue).
func (q *Queue) Full() bool { return q.cfg.Maxsize > 0 && q.Qsize() >= q.cfg.Maxsize }

// Maxsize returns the queue's bound (0: unbounded).
func (q *Queue) Maxsize() int { return q.cfg.Maxsize }

// Shutdown is Python 3.13's Queue.shutdown for this server's Queue: Put fails with
// managers.ErrQueueShutDown from now on, and Get does once the stream has no item available.
// With immediate, the stream's items are discarded and counted as done (on every server).
// Other servers sharing the queue are not shut down.
func (q *Queue) Shutdown(ctx context.Context, immediate bool) error {
	q.mu.Lock()
	q.shutdown = true
	ws := q.waiters
	q.waiters = nil
	for _, w := range ws {
		w.err = managers.ErrQueueShutDown
		close(w.ch)
	}
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
	q.mu.Unlock()
	if !immediate {
		return nil
	}
	h, err := q.setup(ctx)
	if err != nil {
		return err
	}
	pctx, cancel := opCtx(ctx)
	defer cancel()
	if err := h.stream.Purge(pctx); err != nil {
		return q.fault("shutdown", err)
	}
	// Every item ever put is done now.
	for {
		st, h, err := q.counts(ctx)
		if err != nil {
			return err
		}
		done, rev, err := q.doneCount(ctx, h)
		if err != nil {
			return err
		}
		if done >= st.LastSeq {
			return nil
		}
		if err := q.setDone(ctx, h, st.LastSeq, rev); err == nil {
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
			return q.fault("shutdown", err)
		}
	}
}

// ExposedMethods returns the methods Python clients may call (those of managers.Queue).
func (q *Queue) ExposedMethods() []string { return managers.QueueMethods() }

// CallMethod serves queue.Queue's Python API.
func (q *Queue) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	c, err := managers.ParseQueueCall(name, args, kwargs)
	if err != nil {
		return nil, err
	}
	switch c.Method {
	case "put":
		return nil, q.put(ctx, c.Item, c.Block, c.Deadline)
	case "get":
		return q.get(ctx, c.Block, c.Deadline)
	case "qsize", "empty", "full":
		n, err := q.Len(ctx)
		if err != nil {
			return nil, err
		}
		switch c.Method {
		case "qsize":
			return int64(n), nil
		case "empty":
			return n == 0, nil
		}
		return q.cfg.Maxsize > 0 && n >= q.cfg.Maxsize, nil
	case "task_done":
		return nil, q.taskDone(ctx)
	case "join":
		return nil, q.Join(ctx)
	default: // shutdown
		return nil, q.Shutdown(ctx, c.Immediate)
	}
}
