package ratelog

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// DefaultInterval is the summary interval of an [Aggregator] whose interval
// is zero.
const DefaultInterval = 10 * time.Second

// maxAddrs bounds the addresses counted per interval; the others are counted
// together, so an attacker with many addresses cannot grow the map.
const maxAddrs = 1024

// topAddrs is how many addresses a summary line names.
const topAddrs = 10

// An Aggregator logs repeated events of one kind: the first of a quiet
// period at once, the rest as one summary line per interval. It is safe for
// concurrent use. The zero value is not usable; call [New].
type Aggregator struct {
	log      logrus.FieldLogger
	level    logrus.Level
	msg      string
	interval time.Duration

	mu      sync.Mutex
	open    bool // a window is open: events are being counted
	timer   *time.Timer
	total   int
	addrs   map[netip.Addr]int
	others  int // events from addresses past maxAddrs, or with none
	reasons map[string]int

	onFlush func() // test hook: called after every timer run
}

// IP returns the address an event from a is counted under: a TCP peer's IP
// (an IPv4-mapped IPv6 address unmapped), else the zero Addr (Unix sockets,
// streams of a multiplexed session). connection.Listener keys its
// per-address bound on the same value.
func IP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// New returns an Aggregator that writes msg at level to log. A zero
// interval means [DefaultInterval]. A nil log discards everything.
func New(log logrus.FieldLogger, level logrus.Level, msg string, interval time.Duration) *Aggregator {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Aggregator{log: log, level: level, msg: msg, interval: interval}
}

// Event records one event from remote (the zero Addr if it has none) for
// reason. The first event after a quiet interval is logged at once with
// fields (remote, reason and the caller's); later ones are counted and
// summarised.
func (a *Aggregator) Event(remote netip.Addr, reason string, fields logrus.Fields) {
	if a == nil || a.log == nil {
		return
	}
	a.mu.Lock()
	if !a.open {
		a.open = true
		if a.timer == nil {
			a.timer = time.AfterFunc(a.interval, a.flush)
		} else {
			a.timer.Reset(a.interval)
		}
		a.mu.Unlock()
		f := logrus.Fields{"reason": reason}
		if remote.IsValid() {
			f["remote"] = remote.String()
		}
		for k, v := range fields {
			f[k] = v
		}
		a.log.WithFields(f).Log(a.level, a.msg)
		return
	}
	a.total++
	if a.reasons == nil {
		a.reasons = map[string]int{}
		a.addrs = map[netip.Addr]int{}
	}
	a.reasons[reason]++
	if _, ok := a.addrs[remote]; remote.IsValid() && (ok || len(a.addrs) < maxAddrs) {
		a.addrs[remote]++
	} else {
		a.others++
	}
	a.mu.Unlock()
}

// flush writes the summary of the interval that just ended, or closes the
// window if it was quiet.
func (a *Aggregator) flush() {
	if a.onFlush != nil {
		defer a.onFlush()
	}
	a.mu.Lock()
	if !a.open || a.total == 0 {
		a.open = false
		a.mu.Unlock()
		return
	}
	total, addrs, others, reasons := a.take()
	a.timer.Reset(a.interval)
	a.mu.Unlock()
	a.summary(total, addrs, others, reasons)
}

// take returns and resets the counts. a.mu must be held.
func (a *Aggregator) take() (int, map[netip.Addr]int, int, map[string]int) {
	total, addrs, others, reasons := a.total, a.addrs, a.others, a.reasons
	a.total, a.addrs, a.others, a.reasons = 0, nil, 0, nil
	return total, addrs, others, reasons
}

func (a *Aggregator) summary(total int, addrs map[netip.Addr]int, others int, reasons map[string]int) {
	a.log.WithFields(logrus.Fields{
		"count":   total,
		"reasons": formatReasons(reasons),
		"remotes": formatAddrs(addrs, others),
	}).Log(a.level, fmt.Sprintf("%s (%d more in the last %v)", a.msg, total, a.interval))
}

// Stop writes the pending summary, if any, at once and disarms the timer
// (for a server that is shutting down). Events after Stop start a new
// window.
func (a *Aggregator) Stop() {
	if a == nil || a.log == nil {
		return
	}
	a.mu.Lock()
	if a.timer != nil {
		a.timer.Stop()
	}
	a.open = false
	total, addrs, others, reasons := a.take()
	a.mu.Unlock()
	if total > 0 {
		a.summary(total, addrs, others, reasons)
	}
}

func formatReasons(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	return b.String()
}

func formatAddrs(m map[netip.Addr]int, others int) string {
	type ac struct {
		a netip.Addr
		n int
	}
	list := make([]ac, 0, len(m))
	for a, n := range m {
		list = append(list, ac{a, n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].a.Less(list[j].a)
	})
	var b strings.Builder
	for i, e := range list {
		if i == topAddrs {
			rest := 0
			for _, e := range list[i:] {
				rest += e.n
			}
			others += rest
			fmt.Fprintf(&b, " (+%d more addresses)", len(list)-i)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", e.a, e.n)
	}
	if others > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "other=%d", others)
	}
	return b.String()
}
