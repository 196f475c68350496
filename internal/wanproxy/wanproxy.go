// Package wanproxy is a TCP proxy for tests and benchmarks that emulates a
// wide-area link on loopback: every byte is delivered a fixed delay after it
// was read, in each direction, without limiting throughput (reads go on
// while earlier bytes wait). Its connections can be cut at once (Kill), as a
// failing link would.
package wanproxy

import (
	"net"
	"sync"
	"time"
)

// Proxy forwards connections from its address to a target, delaying each
// direction. It is safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	delay  time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New listens on 127.0.0.1:0 and forwards to target, delaying each
// direction by delay (a round trip gains 2*delay).
func New(target string, delay time.Duration) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, delay: delay, conns: map[net.Conn]struct{}{}}
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
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
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
