package managers

import (
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgo/mpgo/connection"
)

// Label values of [RequestCount] that are not a typeid or a method name.
const (
	// StatsServerTypeID is the TypeID of requests for the server's public functions (create,
	// incref, decref, debug_info, ...), which belong to no object.
	StatsServerTypeID = "#server"
	// StatsOther is the TypeID of requests for an unknown object or that could not be
	// decoded, and the Method of requests for a name that is neither exposed nor a public or
	// fallback function: whatever a client makes up is counted under this one value.
	StatsOther = "other"
)

// durationBounds are the upper bounds of the request duration histogram's buckets (the
// last bucket, +Inf, is implicit).
var durationBounds = [...]time.Duration{
	25 * time.Microsecond, 50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond,
	500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
	5 * time.Second, 10 * time.Second,
}

// durationSampleEvery: the duration of every durationSampleEvery-th request of a connection
// (from its first) is measured. Reading the clock twice costs more than all the counting (about
// 40 ns on a machine with a fast vDSO clock, 250-400 ns on a virtual machine without, where a
// request costs the server 15 us), so only a sample of the requests pays for it.
const durationSampleEvery = 8

// epoch is the origin of monoNow.
var epoch = time.Now()

// monoNow reads the monotonic clock only (time.Now reads the wall clock too).
func monoNow() time.Duration { return time.Since(epoch) }

// reqStats counts the requests of one (typeid, method) pair: a request costs one atomic add,
// and a timed one (see durationSampleEvery) two more (its bucket and the duration sum). Each
// pair is resolved once (when an object is registered, or at start-up), never looked up per
// request under a lock.
type reqStats struct {
	typeid, method string
	count          atomic.Uint64
	buckets        [len(durationBounds) + 1]atomic.Uint64 // not cumulative
	sumNanos       atomic.Uint64
}

// record counts a request whose reply has been written, and its duration if it was timed.
func (r *reqStats) record(in *incoming) {
	r.count.Add(1)
	if in.timed {
		r.observe(monoNow() - in.start)
	}
}

// observe records the duration of a timed request.
func (r *reqStats) observe(d time.Duration) {
	i := 0
	for i < len(durationBounds) && d > durationBounds[i] {
		i++
	}
	r.buckets[i].Add(1)
	if d > 0 {
		r.sumNanos.Add(uint64(d))
	}
}

// typeStats are the counters of one typeid that exist whatever its objects expose.
type typeStats struct {
	getValue, str, repr, other *reqStats
}

// fallback returns the counter of a request for a method that is not exposed.
func (ts *typeStats) fallback(name string) *reqStats {
	switch name {
	case "#GETVALUE":
		return ts.getValue
	case "__str__":
		return ts.str
	case "__repr__":
		return ts.repr
	}
	return ts.other
}

// maxRecentFailures is how many handshake failures [Snapshot] lists.
const maxRecentFailures = 20

// serverStats are a Server's counters.
type serverStats struct {
	started time.Time
	other   *reqStats            // unknown object, undecodable request
	public  map[string]*reqStats // the public functions, and StatsOther; read-only

	mu     sync.Mutex
	all    []*reqStats // every counter, in creation order
	byPair map[[2]string]*reqStats
	types  map[string]*typeStats

	failMu   sync.Mutex
	failures map[string]uint64 // by connection.FailureReason
	recent   [maxRecentFailures]HandshakeFailure
	nrecent  int // failures recorded in recent (ring; the newest at (nrecent-1) % len)
}

func newServerStats() *serverStats {
	st := &serverStats{started: time.Now(), byPair: map[[2]string]*reqStats{}, types: map[string]*typeStats{},
		public: map[string]*reqStats{}, failures: map[string]uint64{}}
	st.other = st.pair(StatsOther, StatsOther)
	for name := range publicFuncs {
		st.public[name] = st.pair(StatsServerTypeID, name)
	}
	st.public[StatsOther] = st.pair(StatsServerTypeID, StatsOther)
	return st
}

// pair returns the counter of (typeid, method), creating it.
func (st *serverStats) pair(typeid, method string) *reqStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pairLocked(typeid, method)
}

func (st *serverStats) pairLocked(typeid, method string) *reqStats {
	k := [2]string{typeid, method}
	r := st.byPair[k]
	if r == nil {
		r = &reqStats{typeid: typeid, method: method}
		st.byPair[k] = r
		st.all = append(st.all, r)
	}
	return r
}

// forType returns the counters of typeid and of each exposed name (the exposed set of a newly
// registered object: nil values never occur, so a lookup doubles as the exposed check).
func (st *serverStats) forType(typeid string, exposed []string) (*typeStats, map[string]*reqStats) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ts := st.types[typeid]
	if ts == nil {
		ts = &typeStats{
			getValue: st.pairLocked(typeid, "#GETVALUE"),
			str:      st.pairLocked(typeid, "__str__"),
			repr:     st.pairLocked(typeid, "__repr__"),
			other:    st.pairLocked(typeid, StatsOther),
		}
		st.types[typeid] = ts
	}
	set := make(map[string]*reqStats, len(exposed))
	for _, n := range exposed {
		set[n] = st.pairLocked(typeid, n)
	}
	return ts, set
}

// publicStats returns the counter of the public function name.
func (st *serverStats) publicStats(name string) *reqStats {
	if r := st.public[name]; r != nil {
		return r
	}
	return st.public[StatsOther]
}

// handshakeFailed records a failed handshake.
func (st *serverStats) handshakeFailed(remote net.Addr, err error) {
	reason := connection.FailureReason(err)
	if reason == "" {
		return
	}
	f := HandshakeFailure{Time: time.Now(), Reason: reason, Error: err.Error()}
	if remote != nil {
		f.Remote = remote.String()
	}
	st.failMu.Lock()
	st.failures[reason]++
	st.recent[st.nrecent%maxRecentFailures] = f
	st.nrecent++
	st.failMu.Unlock()
}

// HandshakeFailure is one failed authentication handshake.
type HandshakeFailure struct {
	Time   time.Time
	Remote string // the peer's address
	Reason string // connection.FailureReason: timeout, closed, wrong_key, protocol, shed, other
	Error  string
}

// RequestCount is the number of requests for one method of one typeid.
type RequestCount struct {
	// TypeID is the typeid of the object called, [StatsServerTypeID] for the server's public
	// functions, or [StatsOther].
	TypeID string
	// Method is an exposed method name, a fallback ('#GETVALUE', '__str__', '__repr__'), a
	// public function name, or [StatsOther].
	Method string
	Count  uint64
}

// DurationHistogram is the distribution of request durations (from a request's arrival to
// its reply's being written), over a sample of the requests: each connection's first and
// every 8th after it (reading the clock costs more than counting). Count is the number of
// requests sampled.
type DurationHistogram struct {
	Count uint64
	Sum   time.Duration
	// Bounds are the buckets' upper bounds (the last bucket, +Inf, has none); Counts[i] is the
	// number of requests that took at most Bounds[i] (cumulative, as Prometheus has them).
	Bounds []time.Duration
	Counts []uint64
}

// ObjectCount is the number of shared objects of one typeid.
type ObjectCount struct {
	TypeID   string
	Objects  int // tracked objects (those debug_info lists)
	RefCount int // the sum of their reference counts
}

// QueueDepth is the depth of the queues of one typeid: one queue for a typeid registered as a
// [Singleton] queue (mpgo serve --queue NAME), each created queue for SyncManager's Queue.
type QueueDepth struct {
	TypeID string
	Queues int // shared queues of this typeid
	Len    int // items in them
}

// Snapshot is a point-in-time view of a [Server], for metrics and status pages.
type Snapshot struct {
	Time    time.Time // when it was taken
	Started time.Time // when the Server was first used
	Closing bool      // Shutdown or Close was called

	// Listeners are the addresses served.
	Listeners []string
	// Authenticating counts accepted connections still in their handshake; Serving the
	// authenticated connections being served.
	Authenticating, Serving int

	// Requests are the request counters, sorted by typeid then method; only pairs that
	// exist (registered typeids and exposed names) appear, each as soon as it exists.
	Requests []RequestCount
	Duration DurationHistogram

	Objects []ObjectCount // by typeid, sorted
	Queues  []QueueDepth  // by typeid, sorted: every typeid with a shared queue

	// HandshakeFailures counts failed handshakes by reason; RecentFailures lists the last
	// few, newest first. Only failures reported to [Server.HandshakeFailed] are counted.
	HandshakeFailures map[string]uint64
	RecentFailures    []HandshakeFailure
}

// queueLen is what a shared object needs to count as a queue in a Snapshot (*Queue has it).
type queueLen interface{ Qsize() int }

// HandshakeFailed records a failed handshake for [Server.Snapshot]; its signature is that of
// connection.Config.OnHandshakeError. ListenAndServe installs it; a caller that builds its own
// listener for Serve sets it there (OnHandshakeError: srv.HandshakeFailed). It logs nothing
// (the listener does).
func (s *Server) HandshakeFailed(remote net.Addr, err error) {
	s.init()
	s.stats.handshakeFailed(remote, err)
}

// Closing reports whether Shutdown or Close has been called (or a client asked the server to
// shut down): a health check answers "unavailable" from then on.
func (s *Server) Closing() bool { return s.isClosing() }

// Snapshot returns the server's counters and a view of its connections, objects and queues.
// It takes the object table's lock once (as debug_info does) and asks each queue its length;
// it costs the served requests nothing.
func (s *Server) Snapshot() Snapshot {
	s.init()
	st := s.stats
	snap := Snapshot{Time: time.Now(), Started: st.started, Closing: s.isClosing()}

	s.mu.Lock()
	snap.Serving = len(s.conns)
	for l := range s.listeners {
		snap.Authenticating += l.PendingHandshakes()
		snap.Listeners = append(snap.Listeners, l.Addr().String())
	}
	s.mu.Unlock()
	sort.Strings(snap.Listeners)

	st.mu.Lock()
	all := append([]*reqStats(nil), st.all...)
	st.mu.Unlock()
	h := &snap.Duration
	h.Bounds = durationBounds[:]
	buckets := make([]uint64, len(durationBounds)+1)
	for _, r := range all {
		for i := range r.buckets {
			buckets[i] += r.buckets[i].Load()
		}
		h.Sum += time.Duration(r.sumNanos.Load())
		snap.Requests = append(snap.Requests, RequestCount{TypeID: r.typeid, Method: r.method, Count: r.count.Load()})
	}
	sort.Slice(snap.Requests, func(i, j int) bool {
		a, b := snap.Requests[i], snap.Requests[j]
		if a.TypeID != b.TypeID {
			return a.TypeID < b.TypeID
		}
		return a.Method < b.Method
	})
	h.Counts = make([]uint64, len(durationBounds))
	var cum uint64
	for i, c := range buckets {
		cum += c
		if i < len(h.Counts) {
			h.Counts[i] = cum
		}
	}
	h.Count = cum

	objects := map[string]*ObjectCount{}
	type queue struct {
		typeid string
		q      queueLen
	}
	var queues []queue
	s.tab.mu.Lock()
	for _, e := range s.tab.byIdent {
		if !e.tracked {
			continue
		}
		oc := objects[e.typeid]
		if oc == nil {
			oc = &ObjectCount{TypeID: e.typeid}
			objects[e.typeid] = oc
		}
		oc.Objects++
		oc.RefCount += e.refcount
		if q, ok := e.obj.(queueLen); ok {
			queues = append(queues, queue{e.typeid, q})
		}
	}
	s.tab.mu.Unlock()
	// A queue registered with Singleton (mpgo serve --queue NAME) is shown from the start, not
	// only once a client has created it.
	for typeid, q := range s.registry().singletonQueues() {
		seen := false
		for _, x := range queues {
			if x.q == q {
				seen = true
				break
			}
		}
		if !seen {
			queues = append(queues, queue{typeid, q})
		}
	}
	for _, oc := range objects {
		snap.Objects = append(snap.Objects, *oc)
	}
	sort.Slice(snap.Objects, func(i, j int) bool { return snap.Objects[i].TypeID < snap.Objects[j].TypeID })
	depths := map[string]*QueueDepth{}
	for _, q := range queues { // outside the table's lock: Qsize takes the queue's
		d := depths[q.typeid]
		if d == nil {
			d = &QueueDepth{TypeID: q.typeid}
			depths[q.typeid] = d
		}
		d.Queues++
		d.Len += q.q.Qsize()
	}
	for _, d := range depths {
		snap.Queues = append(snap.Queues, *d)
	}
	sort.Slice(snap.Queues, func(i, j int) bool { return snap.Queues[i].TypeID < snap.Queues[j].TypeID })

	st.failMu.Lock()
	snap.HandshakeFailures = make(map[string]uint64, len(st.failures))
	for k, v := range st.failures {
		snap.HandshakeFailures[k] = v
	}
	n := st.nrecent
	if n > maxRecentFailures {
		n = maxRecentFailures
	}
	for i := 0; i < n; i++ {
		snap.RecentFailures = append(snap.RecentFailures, st.recent[(st.nrecent-1-i)%maxRecentFailures])
	}
	st.failMu.Unlock()
	return snap
}
