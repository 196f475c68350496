package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Put states of one item in the ledger.
const (
	putNone  uint8 = iota // never attempted (a get of it is an unknown item)
	putTried              // a victim logged TRY and was killed before ACK: in the queue at most once
	putAcked              // the put returned: must be got exactly once (or still queued)
)

// feederID is the producer of the victims' queue soakvq.
const feederID = "f"

// producer is the per-sequence state of one producer's items ("id:seq", seq from 1).
type producer struct {
	put []uint8 // put state per seq
	got []uint8 // times got per seq (saturating at 255)
}

func (p *producer) grow(seq int) {
	for len(p.put) <= seq {
		p.put = append(p.put, putNone)
		p.got = append(p.got, 0)
	}
}

// ledger records every item put and got by every client, in any order (lines
// of different processes arrive out of order), and checks it at the end.
type ledger struct {
	mu      sync.Mutex
	prods   map[string]*producer
	bad     int      // items got that are not of the form id:seq
	badSeen []string // the first few of them
}

func newLedger() *ledger { return &ledger{prods: map[string]*producer{}} }

func splitItem(item string) (string, int, bool) {
	i := strings.LastIndexByte(item, ':')
	if i <= 0 {
		return "", 0, false
	}
	seq, err := strconv.Atoi(item[i+1:])
	if err != nil || seq <= 0 || seq > 1<<30 {
		return "", 0, false
	}
	return item[:i], seq, true
}

func (l *ledger) slot(item string) (*producer, int) {
	id, seq, ok := splitItem(item)
	if !ok {
		l.bad++
		if len(l.badSeen) < 5 {
			l.badSeen = append(l.badSeen, item)
		}
		return nil, 0
	}
	p := l.prods[id]
	if p == nil {
		p = &producer{}
		l.prods[id] = p
	}
	p.grow(seq)
	return p, seq
}

// tried records a put that may not have reached the queue.
func (l *ledger) tried(item string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, seq := l.slot(item); p != nil && p.put[seq] == putNone {
		p.put[seq] = putTried
	}
}

// acked records a put that returned.
func (l *ledger) acked(item string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, seq := l.slot(item); p != nil {
		p.put[seq] = putAcked
	}
}

// got records an item a consumer (or the drain) received.
func (l *ledger) got(item string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, seq := l.slot(item); p != nil && p.got[seq] < 255 {
		p.got[seq]++
	}
}

// accounting is the ledger's verdict.
type accounting struct {
	Acked            int64    `json:"acked"`             // puts that returned
	TriedOnly        int64    `json:"tried_only"`        // victims' puts cut by the kill
	TriedDelivered   int64    `json:"tried_delivered"`   // ... of which the item was got (once)
	Got              int64    `json:"got"`               // items got (consumers and drains)
	Lost             int64    `json:"lost"`              // acked, never got: must be 0 (main queues)
	LostVictimQueue  int64    `json:"lost_victim_queue"` // acked into soakvq, never got: at most InFlightAtKill
	InFlightAtKill   int64    `json:"in_flight_at_kill"` // victims killed between WANT and VGOT/EMPTY
	Duplicated       int64    `json:"duplicated"`        // extra copies got: must be 0
	Unknown          int64    `json:"unknown"`           // got but never put: must be 0
	LostExamples     []string `json:"lost_examples,omitempty"`
	DuplicateExample []string `json:"duplicate_examples,omitempty"`
	UnknownExamples  []string `json:"unknown_examples,omitempty"`
}

// check computes the accounting; inFlight is the number of victims killed
// while waiting for a reply from soakvq.
func (l *ledger) check(inFlight int64) accounting {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := accounting{InFlightAtKill: inFlight, Unknown: int64(l.bad), UnknownExamples: append([]string(nil), l.badSeen...)}
	ids := make([]string, 0, len(l.prods))
	for id := range l.prods {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	ex := func(s *[]string, id string, seq int) {
		if len(*s) < 5 {
			*s = append(*s, fmt.Sprintf("%s:%d", id, seq))
		}
	}
	for _, id := range ids {
		p := l.prods[id]
		for seq := 1; seq < len(p.put); seq++ {
			g := int64(p.got[seq])
			a.Got += g
			if g > 1 {
				a.Duplicated += g - 1
				ex(&a.DuplicateExample, id, seq)
			}
			switch p.put[seq] {
			case putAcked:
				a.Acked++
				if g == 0 {
					if id == feederID {
						a.LostVictimQueue++
					} else {
						a.Lost++
					}
					ex(&a.LostExamples, id, seq)
				}
			case putTried:
				a.TriedOnly++
				if g > 0 {
					a.TriedDelivered++
				}
			case putNone:
				if g > 0 {
					a.Unknown += g
					ex(&a.UnknownExamples, id, seq)
				}
			}
		}
	}
	return a
}
