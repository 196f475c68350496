package ratelog

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

func newLogger() (*logrus.Logger, *test.Hook) {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l, test.NewLocal(l)
}

func TestFloodIsSummarised(t *testing.T) {
	l, hook := newLogger()
	a := New(l, logrus.WarnLevel, "handshake failed", time.Hour)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2500; i++ {
				addr := netip.AddrFrom4([4]byte{10, 0, byte(g), byte(i % 3)})
				a.Event(addr, "wrong_key", nil)
			}
		}(g)
	}
	wg.Wait()
	if n := len(hook.AllEntries()); n != 1 {
		t.Fatalf("%d lines after 10,000 events in one interval, want 1", n)
	}
	a.Stop()
	entries := hook.AllEntries()
	if len(entries) != 2 {
		t.Fatalf("%d lines after Stop, want 2", len(entries))
	}
	sum := entries[1]
	if got := sum.Data["count"]; got != 9999 {
		t.Errorf("summary count = %v, want 9999", got)
	}
	if got := sum.Data["reasons"]; got != "wrong_key=9999" {
		t.Errorf("summary reasons = %v", got)
	}
	remotes := sum.Data["remotes"].(string)
	if !strings.Contains(remotes, "(+2 more addresses)") || !strings.HasPrefix(remotes, "10.0.") {
		t.Errorf("summary remotes = %q", remotes)
	}
	if sum.Level != logrus.WarnLevel || !strings.HasPrefix(sum.Message, "handshake failed (9999 more") {
		t.Errorf("summary line = %v %q", sum.Level, sum.Message)
	}
}

func TestTimerSummaryThenQuiet(t *testing.T) {
	l, hook := newLogger()
	a := New(l, logrus.InfoLevel, "refused", 20*time.Millisecond)
	flushed := make(chan struct{}, 16)
	a.onFlush = func() { flushed <- struct{}{} }
	defer a.Stop()
	wait := func() {
		t.Helper()
		select {
		case <-flushed:
		case <-time.After(10 * time.Second):
			t.Fatal("timer did not run within 10 s")
		}
	}
	a.Event(netip.MustParseAddr("127.0.0.1"), "limit", logrus.Fields{"limit": 3})
	first := hook.LastEntry()
	if first == nil || first.Data["remote"] != "127.0.0.1" || first.Data["limit"] != 3 || first.Data["reason"] != "limit" {
		t.Fatalf("first line = %+v", first)
	}
	a.Event(netip.Addr{}, "limit", nil)
	a.Event(netip.MustParseAddr("::1"), "other", nil)
	wait()
	if n := len(hook.AllEntries()); n != 2 {
		t.Fatalf("%d lines after the first interval, want 2", n)
	}
	sum := hook.AllEntries()[1]
	if sum.Data["count"] != 2 || sum.Data["reasons"] != "limit=1 other=1" || sum.Data["remotes"] != "::1=1 other=1" {
		t.Fatalf("summary = %+v", sum.Data)
	}
	// A quiet interval closes the window: the next event is logged in full again.
	wait()
	if n := len(hook.AllEntries()); n != 2 {
		t.Fatalf("a quiet interval wrote a line (%d lines)", n)
	}
	a.Event(netip.MustParseAddr("127.0.0.2"), "limit", nil)
	if last := hook.LastEntry(); last.Data["remote"] != "127.0.0.2" {
		t.Fatalf("event after a quiet interval not logged in full: %+v", last.Data)
	}
}

func TestManyAddressesBounded(t *testing.T) {
	l, hook := newLogger()
	a := New(l, logrus.WarnLevel, "x", time.Hour)
	for i := 0; i < 5000; i++ {
		a.Event(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), "r", nil)
	}
	a.mu.Lock()
	n := len(a.addrs)
	a.mu.Unlock()
	if n > maxAddrs {
		t.Fatalf("%d addresses tracked, bound is %d", n, maxAddrs)
	}
	a.Stop()
	if got := hook.LastEntry().Data["remotes"].(string); !strings.Contains(got, fmt.Sprintf("other=%d", 4999-topAddrs)) {
		t.Fatalf("remotes = %q", got)
	}
}

func TestNilLoggerDiscards(t *testing.T) {
	a := New(nil, logrus.WarnLevel, "x", 0)
	a.Event(netip.Addr{}, "r", nil)
	a.Stop()
	var nilAgg *Aggregator
	nilAgg.Event(netip.Addr{}, "r", nil)
	nilAgg.Stop()
}
