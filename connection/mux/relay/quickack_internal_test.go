package relay

import (
	"encoding/binary"
	"net"
	"testing"
)

func mpFrame(n int) []byte {
	b := make([]byte, 4+n)
	binary.BigEndian.PutUint32(b, uint32(n))
	return b
}

func TestFrameTracker(t *testing.T) {
	long := make([]byte, 12+3)
	binary.BigEndian.PutUint32(long, 0xFFFFFFFF)
	binary.BigEndian.PutUint64(long[4:], 3)
	for _, c := range []struct {
		name     string
		reads    [][]byte
		boundary []bool // after each read
		frames   int
	}{
		{"whole frames", [][]byte{mpFrame(5), mpFrame(0), append(mpFrame(1), mpFrame(2)...)}, []bool{true, true, true}, 4},
		{"header alone, then the payload in parts", [][]byte{mpFrame(6)[:4], {1, 2}, {3, 4, 5, 6}}, []bool{false, false, true}, 1},
		{"a header split", [][]byte{{0, 0}, {0, 2, 9}, {9}}, []bool{false, false, true}, 1},
		{"8-byte length", [][]byte{long[:4], long[4:10], long[10:13], long[13:]}, []bool{false, false, false, true}, 1},
		{"a frame ending inside the next one's header", [][]byte{append(mpFrame(1), 0, 0)}, []bool{false}, 1},
	} {
		var ft frameTracker
		for i, r := range c.reads {
			ft.feed(r)
			if ft.atBoundary() != c.boundary[i] {
				t.Errorf("%s: read %d: atBoundary %v, want %v", c.name, i, ft.atBoundary(), c.boundary[i])
			}
		}
		if ft.frames != c.frames {
			t.Errorf("%s: %d frames, want %d", c.name, ft.frames, c.frames)
		}
	}
}

// TestQuickAckReader: quick ACKs after the reads a CPython client waits on (handshake
// messages, a read ending inside a frame), not after a whole request.
func TestQuickAckReader(t *testing.T) {
	big := mpFrame(100)
	for _, c := range []struct {
		name   string
		always bool // the relay runs the handshake (with the key)
		early  int
		writes [][]byte
		armed  []bool
	}{
		{"pipe: handshake, requests, a frame written as header then payload", false, handshakeFrames,
			[][]byte{mpFrame(20), mpFrame(40), mpFrame(9), mpFrame(30), mpFrame(50), big[:4], big[4:50], big[50:]},
			[]bool{true, true, true, false, false, true, true, false}},
		{"after the relay's own handshake", false, 0,
			[][]byte{mpFrame(30), big[:4], big[4:]},
			[]bool{false, true, false}},
		{"during the relay's own handshake", true, 0,
			[][]byte{mpFrame(20), mpFrame(40)},
			[]bool{true, true}},
	} {
		client, relaySide := net.Pipe()
		armed := 0
		q := &quickAckReader{nc: relaySide, arm: func() { armed++ }, always: c.always, early: c.early}
		go func() {
			for _, w := range c.writes {
				if _, err := client.Write(w); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, 1024)
		for i, w := range c.writes {
			before := armed
			n, err := q.Read(buf)
			if err != nil || n != len(w) {
				t.Fatalf("%s: read %d: %d, %v (want %d bytes)", c.name, i, n, err, len(w))
			}
			if got := armed > before; got != c.armed[i] {
				t.Errorf("%s: read %d (%d bytes): quick ACK %v, want %v", c.name, i, n, got, c.armed[i])
			}
		}
		client.Close()
		relaySide.Close()
	}
}
