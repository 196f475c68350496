package wanproxy

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// Proxy forwards connections from its address to a target, delaying each
// direction. It is safe for concurrent use.
type Proxy struct {
	ln       net.Listener
	target   string
	delay    time.Duration
	quickAck bool

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New listens on 127.0.0.1:0 and forwards to target, delaying each
// direction by delay (a round trip gains 2*delay). It acknowledges what it
// reads at once: see [Config].
func New(target string, delay time.Duration) (*Proxy, error) {
	return Start(Config{Target: target, Delay: delay})
}

// Config configures [Start].
type Config struct {
	Target string        // where connections are forwarded
	Delay  time.Duration // added to each direction

	// KernelACKs leaves acknowledgements to the kernel's delayed ACK
	// (about 40 ms on Linux) instead of acknowledging every read at once.
	// A sender that waits for an ACK before its next write (Nagle's
	// algorithm: CPython writes '#WELCOME#' and its request back to back)
	// waits for the ACK of the far end, one round trip later, on a real
	// link. Acknowledging at once makes that wait zero (a lower bound for
	// such a sender, on a link of 2*Delay), the kernel's delayed ACK makes
	// it 40 ms or more (an upper bound for round trips under 40 ms).
	KernelACKs bool
}

// Start listens on 127.0.0.1:0 and forwards per cfg.
func Start(cfg Config) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: cfg.Target, delay: cfg.Delay, quickAck: !cfg.KernelACKs, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	if !p.track(c) {
		return
	}
	defer p.untrack(c)
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer u.Close()
	if !p.track(u) {
		return
	}
	defer p.untrack(u)
	done := make(chan struct{}, 2)
	go func() { p.pump(u, c); done <- struct{}{} }()
	go func() { p.pump(c, u); done <- struct{}{} }()
	<-done
	c.Close()
	u.Close()
	<-done
}

// chunk is data read at a time, due for delivery at due.
type chunk struct {
	b   []byte
	due time.Time
}

// pump copies src to dst, each read delivered delay after it was read.
func (p *Proxy) pump(dst, src net.Conn) {
	q := make(chan chunk, 4096)
	var rc syscall.RawConn
	if tc, ok := src.(*net.TCPConn); ok && p.quickAck {
		rc, _ = tc.SyscallConn()
	}
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 && rc != nil {
				// Acknowledge at once (see Config.KernelACKs).
				setQuickAck(rc)
			}
			if n > 0 {
				q <- chunk{b[:n], time.Now().Add(p.delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for ch := range q {
		if d := time.Until(ch.due); d > 0 {
			t.Reset(d)
			<-t.C
		}
		if _, err := dst.Write(ch.b); err != nil {
			src.Close()
			for range q { // let the reader end
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// Kill closes every connection through the proxy at once (new ones are
// still accepted).
func (p *Proxy) Kill() {
	p.mu.Lock()
	cs := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// Close stops the proxy, closes its connections and waits for its
// goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Kill()
	p.wg.Wait()
	return err
}
