package connection_test

import (
	"bytes"
	"testing"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/pickle"
)

func TestSendRecv(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, &connection.Config{AuthKey: key}, &connection.Config{AuthKey: key})
		seed := pickle.NewList(2.25, nil, "junk", pickle.Global{Module: "builtins", Name: "float"})
		values := []any{seed, int64(1) << 40, "héllo", []byte("raw"), pickle.Tuple{true, nil}, bytes.Repeat([]byte("z"), 200000)}
		go func() {
			for _, v := range values {
				if err := c.Send(v); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		var got []any
		for range values {
			v, err := s.Recv()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		// Decoded values never alias the connection's reused read buffer.
		for i, v := range values {
			if !pickle.Equal(got[i], v) {
				t.Errorf("value %d: got %s, want %s", i, pickle.Repr(got[i]), pickle.Repr(v))
			}
		}
	})
}

func TestAutoProtocol(t *testing.T) {
	s, c := pair(t, "pipe", nil, &connection.Config{Protocol: 4})
	go c.Send("hi")
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	if p := s.PeerProtocol(); p != 4 {
		t.Fatalf("PeerProtocol = %d", p)
	}
	go s.Send("back")
	f, err := c.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if connection.PickleProtocol(f) != 4 {
		t.Fatalf("reply in protocol %d, want the peer's 4", connection.PickleProtocol(f))
	}
	// Before anything is received, protocol 2 (readable by Python 2.7).
	s2, c2 := pair(t, "pipe", nil, nil)
	go s2.Send("first")
	f, err = c2.ReadFrame()
	if err != nil || connection.PickleProtocol(f) != 2 {
		t.Fatalf("first send: protocol %d, %v", connection.PickleProtocol(f), err)
	}
}

func TestRecvBadPickle(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		s, c := pair(t, tr, nil, nil)
		go func() {
			c.SendBytes([]byte("not a pickle"))
			c.Send("fine")
		}()
		if _, err := s.Recv(); err == nil {
			t.Fatal("garbage unpickled")
		}
		if v, err := s.Recv(); err != nil || v != "fine" {
			t.Fatalf("after a bad pickle: %v, %v", v, err)
		}
	})
}

func TestSendUnpicklable(t *testing.T) {
	s, c := pair(t, "tcp", nil, nil)
	if err := c.Send(make(chan int)); err == nil {
		t.Fatal("a channel was pickled")
	}
	go c.Send(int64(7))
	if v, err := s.Recv(); err != nil || v != int64(7) {
		t.Fatalf("got %v, %v", v, err)
	}
}

// TestLargeFramesAreOwned: a frame of OwnedFrameSize or more is read into a
// buffer of its own (ReadFrame's result is kept, Recv's values may share
// it), so later frames never change what an earlier one returned; smaller
// frames reuse the Conn's buffer.
func TestLargeFramesAreOwned(t *testing.T) {
	s, c := pair(t, "tcp", &connection.Config{AuthKey: key}, &connection.Config{AuthKey: key})
	big := func(b byte) []byte { return bytes.Repeat([]byte{b}, connection.OwnedFrameSize+10) }
	go func() {
		for _, v := range []any{big('a'), pickle.Tuple{big('b'), string(big('c'))}, big('d')} {
			if err := c.Send(v); err != nil {
				t.Error(err)
				return
			}
		}
		for _, p := range [][]byte{big('e'), big('f'), []byte("small1"), []byte("small2")} {
			if err := c.SendBytes(p); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var got []any
	for range 3 {
		v, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	var frames [][]byte
	for range 4 {
		p, err := s.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, p)
	}
	want := []any{big('a'), pickle.Tuple{big('b'), string(big('c'))}, big('d')}
	for i := range want {
		if !pickle.Equal(got[i], want[i]) {
			t.Errorf("Recv %d changed by later frames", i)
		}
	}
	if !bytes.Equal(frames[0], big('e')) || !bytes.Equal(frames[1], big('f')) {
		t.Error("a large ReadFrame result changed by later frames")
	}
	// the small ones share the reused buffer: the first is overwritten
	if string(frames[3]) != "small2" || string(frames[2]) != "small2" {
		t.Errorf("small frames: %q %q, want both \"small2\" (one reused buffer)", frames[2], frames[3])
	}
}
