package managers_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mpgo/mpgo/connection"
	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/internal/xmlrpc"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// memServer is a live server on an in-memory listener (no handshake).
type memServer struct {
	srv  *managers.Server
	pl   *pymock.PipeListener
	done chan error
}

func newMemServer(tb testing.TB) *memServer {
	pl := pymock.NewPipeListener()
	l, err := connection.NewListener(pl, &connection.Config{MaxFrameSize: 1 << 16})
	if err != nil {
		tb.Fatal(err)
	}
	ms := &memServer{srv: &managers.Server{Registry: testRegistry(tb)}, pl: pl, done: make(chan error, 1)}
	go func() { ms.done <- ms.srv.Serve(l) }()
	return ms
}

func (ms *memServer) close() {
	ms.srv.Close()
	<-ms.done
}

func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	reqs := []any{
		pickle.Tuple{nil, "dummy", pickle.Tuple{}, pickle.NewDict()},
		pickle.Tuple{nil, "create", pickle.Tuple{"Counter", int64(5)}, pickle.NewDict()},
		pickle.Tuple{nil, "incref", pickle.Tuple{"7f00"}, pickle.NewDict()},
		pickle.Tuple{nil, "get_methods", pickle.Tuple{managers.Token{TypeID: "Counter", Address: "x", ID: "1"}}, pickle.NewDict()},
		pickle.Tuple{nil, "debug_info", pickle.Tuple{}, pickle.NewDict()},
		pickle.Tuple{"7f0000001030", "incr", pickle.Tuple{int64(1)}, pickle.NewDict()},
		pickle.Tuple{"7f0000001030", "set", pickle.Tuple{managers.RebuildProxy{Func: managers.AutoProxyFunc, Token: managers.Token{TypeID: "Counter", Address: pickle.Tuple{"h", int64(1)}, ID: "7f0000001030"}}}, pickle.NewDict()},
		pickle.Tuple{"ffff"},
	}
	for _, r := range reqs {
		for _, v := range pymock.All {
			p := &pymock.Peer{Version: v}
			b, err := p.Encode(r)
			if err != nil {
				tb.Fatal(err)
			}
			seeds = append(seeds, append([]byte{0}, b...), append([]byte{1}, b...))
		}
		if x, err := xmlrpc.Marshal(r); err == nil { // an xmlrpclib client's request
			seeds = append(seeds, append([]byte{0}, x...), append([]byte{1}, x...))
		}
	}
	return append(seeds, []byte{0, 'g', 'a', 'r', 'b'}, []byte{1, 0x80, 4, 0x95, 0xff, 0xff})
}

// FuzzServeRequest sends arbitrary frames to a live server, as the first request of a
// connection (first byte even) or on a method-call connection (odd). Invariant: no panic, the
// peer gets a reply or is disconnected, and the server still serves another client.
func FuzzServeRequest(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	ms := newMemServer(f)
	f.Cleanup(func() { ms.close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := pymock.Connect(ctx, ms.pl.Dial, nil, pymock.Py313)
		if err != nil {
			t.Fatal(err)
		}
		p.Timeout = 300 * time.Millisecond
		if data[0]&1 == 1 {
			if r, err := p.Request("", "accept_connection", pickle.Tuple{"fuzz"}, nil); err != nil || r.Kind != "#RETURN" {
				t.Fatalf("accept_connection: %v %v", r, err)
			}
		}
		if err := p.WriteFrame(data[1:]); err == nil {
			// A reply or a disconnect; a blocking call (e.g. a get) may also just wait.
			p.ReadFrame()
		}
		p.Close()
		shutdown := bytes.Contains(data, []byte("shutdown"))
		q, err := pymock.Connect(ctx, ms.pl.Dial, nil, pymock.Py27)
		if err == nil {
			var r pymock.Reply
			r, err = q.Request("", "dummy", nil, nil)
			if err == nil && r.Kind != "#RETURN" {
				t.Fatalf("dummy after fuzz input: %s %v", r.Kind, r.Value)
			}
			q.Close()
		}
		if err != nil {
			select {
			case <-ms.done: // the input asked the server to shut down: start a new one
				ms.done <- managers.ErrServerClosed
				if !shutdown {
					t.Fatalf("server stopped without a shutdown request")
				}
				ms.close()
				ms = newMemServer(t)
			default:
				t.Fatalf("server no longer serves: %v", err)
			}
		}
	})
}
