package connection_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/wire"
)

func TestBytesRoundTrip(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, &connection.Config{AuthKey: key}, &connection.Config{AuthKey: key})
		msgs := [][]byte{{}, []byte("x"), bytes.Repeat([]byte("ab"), 40000), bytes.Repeat([]byte{7}, 3<<20+5)}
		go func() {
			for _, m := range msgs {
				if err := c.SendBytes(m); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		for i, want := range msgs {
			got, err := s.RecvBytes(0)
			if err != nil {
				t.Fatalf("msg %d: %v", i, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("msg %d: got %d bytes, want %d", i, len(got), len(want))
			}
		}
	})
}

func TestNoAuth(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		go c.SendBytes([]byte("first frame is data"))
		got, err := s.RecvBytes(0)
		if err != nil || string(got) != "first frame is data" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}

func TestRecvBytesInto(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, &connection.Config{AuthKey: key}, &connection.Config{AuthKey: key})
		go func() {
			c.SendBytes([]byte("fits"))
			c.SendBytes([]byte("does not fit"))
			c.SendBytes([]byte("next"))
		}()
		buf := make([]byte, 8)
		n, err := s.RecvBytesInto(buf)
		if err != nil || string(buf[:n]) != "fits" {
			t.Fatalf("got %q, %v", buf[:n], err)
		}
		_, err = s.RecvBytesInto(buf)
		var bts *connection.BufferTooShortError
		if !errors.As(err, &bts) || string(bts.Payload) != "does not fit" {
			t.Fatalf("err = %v, want BufferTooShortError with the payload", err)
		}
		n, err = s.RecvBytesInto(buf[2:])
		if err != nil || string(buf[2:2+n]) != "next" {
			t.Fatalf("after BufferTooShort: %q, %v", buf[2:2+n], err)
		}
	})
}

func TestRecvBytesMax(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		go c.SendBytes([]byte("0123456789"))
		_, err := s.RecvBytes(5)
		if !errors.Is(err, wire.ErrFrameTooLarge) {
			t.Fatalf("err = %v, want ErrFrameTooLarge", err)
		}
		// Like CPython: the connection can no longer be read but can be written.
		if _, err := s.RecvBytes(0); !errors.Is(err, wire.ErrFrameTooLarge) {
			t.Fatalf("second read: err = %v", err)
		}
		go func() { _, _ = c.RecvBytes(0) }()
		if err := s.SendBytes([]byte("still writable")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMaxFrameSizeConfig(t *testing.T) {
	s, c := pair(t, "tcp", &connection.Config{MaxFrameSize: 100}, nil)
	go c.SendBytes(make([]byte, 101))
	if _, err := s.ReadFrame(); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestPoll(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, &connection.Config{AuthKey: key}, &connection.Config{AuthKey: key})
		if ok, err := s.Poll(0); ok || err != nil {
			t.Fatalf("Poll(0) on idle conn = %v, %v", ok, err)
		}
		if ok, err := s.Poll(20 * time.Millisecond); ok || err != nil {
			t.Fatalf("Poll(20ms) on idle conn = %v, %v", ok, err)
		}
		done := make(chan error, 1)
		go func() { done <- c.SendBytes([]byte("ping")) }()
		if ok, err := s.Poll(5 * time.Second); !ok || err != nil {
			t.Fatalf("Poll with data = %v, %v", ok, err)
		}
		if tr != "pipe" {
			// The frame is buffered or in the socket now.
			if ok, err := s.Poll(0); !ok || err != nil {
				t.Fatalf("Poll(0) with data = %v, %v", ok, err)
			}
		}
		got, err := s.RecvBytes(0)
		if err != nil || string(got) != "ping" {
			t.Fatalf("got %q, %v", got, err)
		}
		<-done
		// A closed peer is readable (the read then reports io.EOF).
		c.Close()
		if ok, err := s.Poll(5 * time.Second); !ok || err != nil {
			t.Fatalf("Poll after peer close = %v, %v", ok, err)
		}
		if _, err := s.RecvBytes(0); err != io.EOF {
			t.Fatalf("read after peer close: %v, want io.EOF", err)
		}
		s.Close()
		if _, err := s.Poll(0); !errors.Is(err, connection.ErrClosed) {
			t.Fatalf("Poll on closed conn: %v", err)
		}
	})
}

func TestPollRestoresDeadline(t *testing.T) {
	s, c := pair(t, "tcp", nil, nil)
	s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if ok, _ := s.Poll(time.Millisecond); ok {
		t.Fatal("Poll true on idle conn")
	}
	_, err := s.RecvBytes(0)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want the user's deadline to apply", err)
	}
	// A timeout between frames leaves the connection usable.
	s.SetReadDeadline(time.Time{})
	go c.SendBytes([]byte("ok"))
	if got, err := s.RecvBytes(0); err != nil || string(got) != "ok" {
		t.Fatalf("after timeout: %q, %v", got, err)
	}
}

func TestWait(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		var servers, clients []*connection.Conn
		for range 3 {
			s, c := pair(t, tr, nil, nil)
			servers = append(servers, s)
			clients = append(clients, c)
		}
		ready, err := connection.Wait(servers, 0)
		if err != nil || len(ready) != 0 {
			t.Fatalf("Wait(0) on idle = %v, %v", ready, err)
		}
		ready, err = connection.Wait(servers, 30*time.Millisecond)
		if err != nil || len(ready) != 0 {
			t.Fatalf("Wait(30ms) on idle = %v, %v", ready, err)
		}
		go clients[1].SendBytes([]byte("one"))
		ready, err = connection.Wait(servers, -1)
		if err != nil || len(ready) != 1 || ready[0] != servers[1] {
			t.Fatalf("Wait = %v, %v; want [servers[1]]", ready, err)
		}
		if got, err := servers[1].RecvBytes(0); err != nil || string(got) != "one" {
			t.Fatalf("got %q, %v", got, err)
		}
		// The others are still usable and their deadlines untouched.
		go clients[0].SendBytes([]byte("zero"))
		if got, err := servers[0].RecvBytes(0); err != nil || string(got) != "zero" {
			t.Fatalf("got %q, %v", got, err)
		}
		clients[2].Close()
		ready, err = connection.Wait(servers, 5*time.Second)
		if err != nil || len(ready) != 1 || ready[0] != servers[2] {
			t.Fatalf("Wait after close = %v, %v", ready, err)
		}
		servers[0].Close()
		if _, err := connection.Wait(servers, 0); !errors.Is(err, connection.ErrClosed) {
			t.Fatalf("Wait with a closed conn: %v", err)
		}
	})
}

func TestCloseGivesEOF(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, &connection.Config{AuthKey: key}, &connection.Config{AuthKey: key})
		c.Close()
		if _, err := s.ReadFrame(); err != io.EOF {
			t.Fatalf("err = %v, want io.EOF", err)
		}
		if err := c.SendBytes([]byte("x")); !errors.Is(err, connection.ErrClosed) || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("send on closed conn: %v", err)
		}
		if _, err := c.RecvBytes(0); !errors.Is(err, connection.ErrClosed) {
			t.Fatalf("recv on closed conn: %v", err)
		}
	})
}

func TestCloseUnblocksRecv(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, _ := pair(t, tr, nil, nil)
		errc := make(chan error, 1)
		go func() { _, err := s.RecvBytes(0); errc <- err }()
		// Close before or while RecvBytes blocks: both must give ErrClosed.
		s.Close()
		if err := <-errc; !errors.Is(err, connection.ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	})
}

func TestContextCancelBetweenFrames(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := s.ReadFrameContext(ctx); errc <- err }()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		// Nothing of a frame was consumed: the connection still works.
		go c.SendBytes([]byte("after"))
		if got, err := s.ReadFrame(); err != nil || string(got) != "after" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}

func TestInterruptedFrameBreaks(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		// Half a frame (header for 10 bytes, 3 bytes of payload), and the
		// context is cancelled once the read has taken it: an interruption
		// inside a frame, whatever the scheduling.
		half := []byte{0, 0, 0, 10, 'a', 'b', 'c'}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if tr == "pipe" {
			// A net.Pipe write returns once the read has taken its bytes.
			go func() {
				c.NetConn().Write(half)
				cancel()
			}()
		} else {
			if _, err := c.NetConn().Write(half); err != nil {
				t.Fatal(err)
			}
			// Arrived before the read starts, so gone means read.
			if err := waitBuffered(s.NetConn(), true); err != nil {
				t.Skip(err)
			}
			go func() {
				if err := waitBuffered(s.NetConn(), false); err != nil {
					t.Error(err)
				}
				cancel()
			}()
		}
		_, err := s.ReadFrameContext(ctx)
		if !errors.Is(err, connection.ErrBroken) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want ErrBroken and context.Canceled", err)
		}
		if !s.Closed() {
			t.Fatal("broken connection not closed")
		}
		if _, err := s.ReadFrame(); err == nil {
			t.Fatal("read after break succeeded")
		}
	})
}

func TestDeadlineInsideFrameBreaks(t *testing.T) {
	s, c := pair(t, "tcp", nil, nil)
	c.NetConn().Write([]byte{0, 0, 0, 10, 'a'})
	// The deadline passes once the read has taken the partial frame.
	if err := waitBuffered(s.NetConn(), true); err != nil {
		t.Skip(err)
	}
	go func() {
		if err := waitBuffered(s.NetConn(), false); err != nil {
			t.Error(err)
		}
		s.SetReadDeadline(time.Now())
	}()
	_, err := s.RecvBytes(0)
	if !errors.Is(err, connection.ErrBroken) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestTruncatedFrame(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		go func() {
			c.NetConn().Write([]byte{0, 0, 0, 10, 'a'})
			c.Close()
		}()
		_, err := s.RecvBytes(0)
		if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, connection.ErrBroken) {
			t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
		}
	})
}

func TestNetConnStream(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		var nc net.Conn = c
		go func() {
			nc.Write([]byte("hello "))
			nc.Write(nil) // an empty frame is skipped by Read
			nc.Write([]byte("world"))
			nc.Close()
		}()
		got, err := io.ReadAll(s)
		if err != nil || string(got) != "hello world" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}

func TestConcurrentSendRecv(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		const n = 2000
		errc := make(chan error, 2)
		echo := func(conn *connection.Conn) {
			for range n {
				p, err := conn.ReadFrame()
				if err != nil {
					errc <- err
					return
				}
				if err := conn.WriteFrame(p); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}
		go echo(s)
		go func() {
			for i := range n {
				if err := c.SendBytes([]byte(strings.Repeat("x", i%100))); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		for i := range n {
			p, err := c.RecvBytes(0)
			if err != nil || len(p) != i%100 {
				t.Fatalf("msg %d: %d bytes, %v", i, len(p), err)
			}
		}
		for range 2 {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestInterruptedWriteBreaks(t *testing.T) {
	forListeners(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			// The server side reads only the header, then cancels: the 64 MiB write, far
			// larger than the socket buffers, is then stuck mid-frame.
			io.ReadFull(s.NetConn(), make([]byte, 4))
			cancel()
		}()
		err := c.WriteFrameContext(ctx, make([]byte, 64<<20))
		if !errors.Is(err, connection.ErrBroken) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want ErrBroken and context.Canceled", err)
		}
		if err := c.SendBytes([]byte("x")); err == nil {
			t.Fatal("write after a broken frame succeeded")
		}
	})
}

func TestCancelledWriteBeforeAnyByte(t *testing.T) {
	s, c := pair(t, "tcp", nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.SendContext(ctx, "never sent"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Nothing was written, so the connection is intact.
	go c.Send("sent")
	if v, err := s.Recv(); err != nil || v != "sent" {
		t.Fatalf("got %v, %v", v, err)
	}
}
