package managers

import (
	"time"

	"github.com/sirupsen/logrus"
)

// Reclaiming the objects of dead clients (Server.ReclaimAfter).
//
// A client killed with SIGKILL never sends its decrefs, so its objects would stay forever (in
// CPython too: gh-81158). With ReclaimAfter set, the table records, per entry, how many live
// connections have used it (users) and when it was last used (touched). A connection uses an
// entry from its first request that names it (create, incref, decref, get_methods, a method
// call on it, a proxy of it passed as an argument or sent back in a reply) until the connection
// closes; its close counts as a use. The entries no live connection uses are kept in a list in
// order of last use (unusedList), and one sweeper per Server (sweepLoop) releases those at its
// front that have not been used for ReclaimAfter.
//
// Releasing drops every reference the clients hold, as if all their decrefs had arrived: the
// refcount goes to the references taken through the Go API (Server.Create and Server.Incref
// minus Server.Decref), usually 0, and at 0 the entry is forgotten as a last decref forgets
// it. Objects it holds [*Ref]s to are released when the Go garbage collector finds it
// unreachable (the ordinary path of internal references). The entry of an object the server
// holds itself (a [Singleton]) is not forgotten: it stays in the table untracked, with its
// ident, so that proxies to it keep working (an incref tracks it again, a decref is ignored),
// as for an object held only by a [*Ref].

// user records the entries one connection used. Guarded by table.mu.
type user struct {
	entries map[*entry]struct{}
}

// holder is who takes or drops a reference: a connection (u, its use record) or the Go API.
type holder struct {
	u   *user
	api bool
}

// goAPI is the holder of the Server's Go methods (Create, Incref, Decref).
var goAPI = holder{api: true}

// minSweepInterval bounds how often the sweeper runs, however short ReclaimAfter is.
const minSweepInterval = 10 * time.Millisecond

// now is the table's clock for entry.touched: monotonic nanoseconds since the table was made.
func (t *table) now() int64 { return int64(time.Since(t.epoch)) }

// use records that the connection of u uses e (until it closes: see leave). t.mu held. It
// does nothing when reclaiming is off, or for a nil u (the Go API, which does not count as a
// use). An entry in use needs no time: touched matters only once its last user has left.
func (t *table) use(e *entry, u *user) {
	if !t.reclaim || u == nil {
		return
	}
	if _, ok := u.entries[e]; ok {
		return
	}
	if u.entries == nil {
		u.entries = make(map[*entry]struct{})
	}
	u.entries[e] = struct{}{}
	if e.users == 0 {
		t.unused.remove(e)
	}
	e.users++
}

// leave records that the connection of u has closed: its entries lose a user, and count as
// used now.
func (t *table) leave(u *user) {
	if !t.reclaim {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for e := range u.entries {
		e.users--
		e.touched = now
		if e.users == 0 && t.byIdent[e.ident] == e {
			t.unused.push(e)
		}
	}
	u.entries = nil
}

// reclaimed is one released entry, for the log.
type reclaimed struct {
	typeid, ident string
	dropped       int
}

// unusedList is the entries that no live connection uses, oldest use first: an entry joins at
// the back when its last user leaves (or when it is created), with touched = now, and leaves
// when a connection uses it, so the list is in order of touched. Guarded by table.mu.
type unusedList struct {
	head, tail *entry
}

func (l *unusedList) push(e *entry) {
	if e.listed {
		l.remove(e)
	}
	e.listed, e.prev, e.next = true, l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
}

func (l *unusedList) remove(e *entry) {
	if !e.listed {
		return
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.listed, e.prev, e.next = false, nil, nil
}

// sweep releases the tracked entries that no live connection uses and that have not been used
// for after. It visits only the entries due (the front of t.unused), under the table's lock:
// objects in use, or used within after, cost nothing. An entry due that has nothing to release
// (untracked, or held only by the Go API) leaves the list too: only a connection can add a
// reference the Go API did not take, and the connection puts it back when it leaves.
func (t *table) sweep(after time.Duration) []reclaimed {
	t.mu.Lock()
	defer t.mu.Unlock()
	cutoff := t.now() - int64(after)
	var out []reclaimed
	for e := t.unused.head; e != nil && e.touched <= cutoff; e = t.unused.head {
		t.unused.remove(e)
		keep := min(e.apiRefs, e.refcount)
		if !e.tracked || keep == e.refcount {
			continue // nothing the clients hold
		}
		out = append(out, reclaimed{typeid: e.typeid, ident: e.ident, dropped: e.refcount - keep})
		e.refcount = keep
		if keep == 0 {
			e.tracked = false
			e.kept = e.held
			t.maybeForget(e)
		}
	}
	return out
}

// sweepInterval is how often the sweeper runs: half of ReclaimAfter, so that an object is
// released between ReclaimAfter and 1.5 times ReclaimAfter after its last use.
func (s *Server) sweepInterval() time.Duration {
	return max(s.ReclaimAfter/2, minSweepInterval)
}

// startSweeper starts the sweeper once, when reclaiming is on. s.mu held; the server is not
// closing.
func (s *Server) startSweeper() {
	if s.ReclaimAfter <= 0 || s.sweepStop != nil {
		return
	}
	s.sweepStop = make(chan struct{})
	s.wg.Add(1)
	go s.sweepLoop(s.sweepStop)
}

// stopSweeper stops the sweeper (if it runs); Close and Shutdown wait for it through s.wg.
// s.mu held.
func (s *Server) stopSweeper() {
	if s.sweepStop != nil && !s.sweepStopped {
		close(s.sweepStop)
		s.sweepStopped = true
	}
}

// sweepLoop runs sweeps until stop is closed.
func (s *Server) sweepLoop(stop <-chan struct{}) {
	defer s.wg.Done()
	tick := time.NewTicker(s.sweepInterval())
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			for _, r := range s.tab.sweep(s.ReclaimAfter) {
				s.log().WithFields(logrus.Fields{"typeid": r.typeid, "ident": r.ident, "refcount": r.dropped}).
					Info("managers: released an object no live connection has used for ReclaimAfter")
			}
		}
	}
}
